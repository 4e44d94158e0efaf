# The gatekeeper interop plugin's texts in Koine's window (its account fields).

gatekeeper-field-user = Phone number or provider:id
gatekeeper-field-endpoint = Gatekeeper endpoint (host:port)
gatekeeper-field-server-key = Server key (hex)
gatekeeper-field-gatekeeper-http = Gatekeeper media proxy URL
gatekeeper-field-provider-url = Provider URL
gatekeeper-field-server-name = Server name
gatekeeper-field-operator = Operator
gatekeeper-field-password = Password
gatekeeper-field-e2ee-start-over = Start over with a new identity (the store id from the error)
gatekeeper-field-extra-ca-file = Extra trusted CA certificates (PEM file, optional)
gatekeeper-about = A number or username on a large messenger that opens its network to other apps (EU interop); you opt in with its provider; messages are end-to-end encrypted.
