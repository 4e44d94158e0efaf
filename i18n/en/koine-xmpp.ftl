# The XMPP plugin's texts in Koine's window (its account fields).

xmpp-field-jid = Address (user@server)
xmpp-field-password = Password
xmpp-field-server-host = Server host (optional)
xmpp-field-server-port = Server port (optional)
xmpp-field-tls = TLS
xmpp-field-extra-ca-file = Extra trusted CA certificate file (optional)
xmpp-field-omemo = Encrypt chats end to end (OMEMO) when the contact can
xmpp-about = An XMPP account (user@server) and its password; chats are end-to-end encrypted with OMEMO when the contact’s app can.
