# The page the browser shows once a sign-in through the homeserver's web page
# came back to Koine.
sign-in-done-title = Signed in
sign-in-done-body = Koine is signed in to your Matrix account. You can close this page.
