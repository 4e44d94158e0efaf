# La page que montre le navigateur une fois revenu à Koine après la connexion
# sur la page web du serveur d'accueil.
sign-in-done-title = Connexion réussie
sign-in-done-body = Koine est connecté à votre compte Matrix. Vous pouvez fermer cette page.
