# The SMS plugin's texts in Koine's window (its account fields).

sms-field-backend = Connection
sms-field-phone-address = Phone address (KDE Connect)
sms-field-device-name = This computer's name
sms-field-url = SMSGate URL (with http://, the password and webhook key cross your network unencrypted; use https://)
sms-field-certificate-fingerprint = SMSGate certificate SHA-256 (https://; asked on first connection if empty)
sms-field-username = SMSGate user
sms-field-password = SMSGate password
sms-field-region = Default region
sms-field-own-number = Your phone number
sms-field-sub-id = SIM (dual-SIM phones)
sms-about = Your own phone, paired on your network with KDE Connect, or SMSGate; the carrier can read every SMS.
