# Les textes du module d’interopérabilité (contrôleur d’accès) dans la fenêtre de Koine (ses champs de compte).

gatekeeper-field-user = Numéro de téléphone ou fournisseur:id
gatekeeper-field-endpoint = Point d’accès du contrôleur d’accès (hôte:port)
gatekeeper-field-server-key = Clé du serveur (hex)
gatekeeper-field-gatekeeper-http = URL du relais de médias du contrôleur d’accès
gatekeeper-field-provider-url = URL du fournisseur
gatekeeper-field-server-name = Nom du serveur
gatekeeper-field-operator = Opérateur
gatekeeper-field-password = Mot de passe
gatekeeper-field-e2ee-start-over = Repartir avec une nouvelle identité (l’identifiant du stockage indiqué dans l’erreur)
gatekeeper-field-extra-ca-file = Certificats d’autorité supplémentaires (fichier PEM, facultatif)
gatekeeper-about = Un numéro ou un nom d’utilisateur sur une grande messagerie qui ouvre son réseau aux autres applications (interopérabilité européenne) ; vous l’activez auprès de son fournisseur ; les messages sont chiffrés de bout en bout.
