# Les textes du module SMS dans la fenêtre de Koine (ses champs de compte).

sms-field-backend = Connexion
sms-field-phone-address = Adresse du téléphone (KDE Connect)
sms-field-device-name = Nom de cet ordinateur
sms-field-url = URL de SMSGate (en http://, le mot de passe et la clé des webhooks passent en clair sur votre réseau ; préférez https://)
sms-field-certificate-fingerprint = SHA-256 du certificat de SMSGate (https:// ; demandé à la première connexion s’il est vide)
sms-field-username = Utilisateur SMSGate
sms-field-password = Mot de passe SMSGate
sms-field-region = Région par défaut
sms-field-own-number = Votre numéro de téléphone
sms-field-sub-id = SIM (téléphones double SIM)
sms-about = Votre propre téléphone, appairé sur votre réseau avec KDE Connect, ou SMSGate ; l’opérateur peut lire chaque SMS.
