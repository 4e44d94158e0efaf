# The page the browser shows once a sign-in through the homeserver's web page
# came back to Koine.
matrix-sign-in-done-title = Signed in
matrix-sign-in-done-body = Koine is signed in to your Matrix account. You can close this page.

# Its account fields in Koine's window.
matrix-field-user-id = Matrix ID
matrix-field-password = Password
matrix-field-homeserver = Homeserver URL
matrix-field-start-over = Start over with a new identity: the store id from the error (the encrypted history on this device is lost)
matrix-about = A Matrix account on any homeserver; encrypted rooms stay end-to-end encrypted on this computer too.
