# Les textes du module XMPP dans la fenêtre de Koine (ses champs de compte).

xmpp-field-jid = Adresse (utilisateur@serveur)
xmpp-field-password = Mot de passe
xmpp-field-server-host = Hôte du serveur (facultatif)
xmpp-field-server-port = Port du serveur (facultatif)
xmpp-field-tls = TLS
xmpp-field-extra-ca-file = Fichier de certificat d’autorité supplémentaire (facultatif)
xmpp-field-omemo = Chiffrer les discussions de bout en bout (OMEMO) quand le contact le peut
xmpp-about = Un compte XMPP (utilisateur@serveur) et son mot de passe ; les discussions sont chiffrées de bout en bout avec OMEMO quand l’application du contact le peut.
