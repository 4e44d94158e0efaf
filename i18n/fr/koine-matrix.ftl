# La page que montre le navigateur une fois revenu à Koine après la connexion
# sur la page web du serveur d'accueil.
matrix-sign-in-done-title = Connexion réussie
matrix-sign-in-done-body = Koine est connecté à votre compte Matrix. Vous pouvez fermer cette page.

# Ses champs de compte dans la fenêtre de Koine.
matrix-field-user-id = Identifiant Matrix
matrix-field-password = Mot de passe
matrix-field-homeserver = URL du serveur d’accueil
matrix-field-start-over = Repartir avec une nouvelle identité : l’identifiant du stockage indiqué dans l’erreur (l’historique chiffré de cet appareil est perdu)
matrix-about = Un compte Matrix sur n’importe quel serveur d’accueil ; les salons chiffrés le restent de bout en bout sur cet ordinateur aussi.
