# Koine's window (crate koine-ui). Variables must match i18n/fr/koine-ui.ftl.

app-title = Koine

## Accounts
accounts-heading = Accounts
accounts-empty = No accounts yet: add one, or run `koine --demo` to try Koine with simulated people.
welcome-title = Welcome to Koine
welcome-body = Koine puts your conversations from several networks into one window: chat apps, Matrix and XMPP servers, and the SMS of your own phone.
welcome-route = Under every chat and every message, Koine shows its route: which servers, bridges, phones and carriers carry it, and where end-to-end encryption ends, so you always know who can read what.
welcome-networks = Networks you can add
welcome-add-account = Add an account
welcome-try-demo = Try the demo
welcome-demo-note = The demo opens a second window with simulated people and networks; nothing leaves this computer.
account-stopped = Stopped
account-connecting = Connecting…
account-online = Online
account-offline = Offline: { $reason } (retrying in { $seconds } s)
account-failed = Stopped: { $reason }
account-retry = Retry
status-reason-auth = the server refused the login or password
status-reason-network = cannot reach the server
status-reason-untrusted = the server's identity could not be verified
status-reason-protocol = the server sent something Koine does not accept
status-reason-settings = the account's settings are incomplete or wrong
status-reason-keyring = the system keyring refused or failed
status-reason-plugin-storage = the network's files in the profile could not be written
status-reason-store = Koine could not save to its history; nothing was lost, the network delivers again later
status-reason-plugin-failed = the network plugin failed
status-reason-closed = the server ended the session
status-reason-other = { $reason }
engine-store-error = Koine could not save to its history ({ $detail }). Nothing was acknowledged; the network delivers again once saving works.

## Conversation lists
inbox-heading = Conversations
inbox-empty = No conversations yet.
filter-all = All
filter-unread = Unread
requests-heading = Requests
requests-empty = No pending requests.
requests-hint = People you do not know yet. Nothing is shown to them until you answer.
unread-count = { $count ->
    [one] { $count } unread
   *[other] { $count } unread
}
pinned-marker = Pinned
list-typing = typing…
chat-typing = { $name } is typing…
preview-you = You: { $text }
preview-sender = { $name }: { $text }
preview-attachment = Attachment
preview-deleted = Message deleted

## Chat
chat-none-selected = Select a conversation on the left.
chat-empty = No messages yet.
chat-read-only = This conversation is read-only.
composer-placeholder = Write a message. Enter sends, Shift+Enter starts a new line.
composer-send = Send
day-today = Today
day-yesterday = Yesterday
delivery-queued = Waiting to be sent
delivery-handed = Handed to the phone, not confirmed sent
delivery-sent = Sent
delivery-delivered = Delivered
delivery-read = Read
delivery-failed = Not sent: { $reason }
message-edited = (edited)
message-deleted = This message was deleted.
message-attachments = { $count ->
    [one] { $count } attachment
   *[other] { $count } attachments
}
send-failed = Could not send: { $reason }
send-error-not-opted-in = the recipient has not turned on chats from other apps
send-error-blocked = blocked
send-error-no-such-recipient = no such recipient
send-error-too-large = too large for this network
send-error-rate-limited = the server asks to slow down; Koine tries again later
send-error-offline = not connected; Koine sends it when the account is back
send-error-read-only = this conversation is read-only
send-error-unsupported = this network cannot do that ({ $what })
send-error-not-paired = the phone that relays it is not paired
send-error-identity-changed = the security key of { $with } changed since you verified it. Compare the new safety number and accept it before sending.
send-error-cannot-encrypt = it cannot be end-to-end encrypted now, so it was not sent unencrypted ({ $reason })
send-error-rejected = the server refused it ({ $why })

## The route line
route-unknown = route not known yet
route-federation = federation
route-e2e-verified = end-to-end encrypted, verified
route-e2e-unverified = end-to-end encrypted, not verified
route-e2e-identity-changed = end-to-end encrypted, but their key changed: verify again
route-not-e2e-readers = not end-to-end encrypted: { $readers } can read your messages
route-not-e2e = not end-to-end encrypted
route-provisional-e2e = provisional route: end-to-end encrypted if the network sends it as planned
route-provisional = provisional route: { $summary }, until the network says how it went
route-provisional-unknown = route not known until the network sends it
route-settled-weaker = Your message went less protected than this chat promised: { $summary }
route-details = Route details

## The route inspector
inspector-title = How this conversation travels
inspector-close = Close
inspector-you = You
inspector-them = Them
inspector-band = end-to-end encrypted span
inspector-reads-content = reads your messages
inspector-reads-metadata = sees who, when and how much, not the content
inspector-sees-ip = sees your IP address
inspector-operator = operated by { $operator }
inspector-operator-unknown = operator not known
inspector-e2e-scheme = End-to-end encryption: { $scheme }
inspector-e2e-none = No end-to-end encryption: the hops marked as reading can see every message.
inspector-e2e-ends = End-to-end encryption ends at { $host }.
inspector-verified = Keys verified.
inspector-unverified = Keys not verified yet.
inspector-identity-changed = Their identity key changed since you last talked.
inspector-fingerprint = Safety number or fingerprint: { $fingerprint }
hop-client-link = your server
hop-federation = their server
hop-bridge = bridge to { $network }
hop-gateway = gateway
hop-gateway-to = gateway to { $network }
hop-relay-device = your relaying device
hop-carrier = mobile carrier
hop-proxy = proxy
hop-media-host = file host
hop-other = other hop
transport-tls = TLS { $version }, certificate verified
transport-tls-pinned = TLS { $version }, certificate pinned by you
transport-noise = Noise ({ $protocol })
transport-lan = local network TLS, pinned at pairing ({ $fingerprint })
transport-cellular = cellular radio encryption; the carrier holds the keys
transport-plaintext = no encryption
transport-unknown = link not visible to this device
transport-other = other protection

## Demo mode (koine --demo): what the simulated people write
demo-name-lena = Lena
demo-name-sam = Sam
demo-name-mum = Mum
demo-opening-lena = Hi Lena! I am trying Koine.
demo-opening-sam = Are we still on for Friday?
demo-opening-mum = Are you coming for lunch on Sunday?
demo-lena-1 = Hi! Your message reached my messenger through the interop gateway, encrypted end to end.
demo-lena-2 = Click "Route details" above: it shows every server between us and what each one can see.
demo-lena-3 = Write anything, I always answer.
demo-sam-1 = Yes! Seven o'clock at the usual place.
demo-sam-2 = Ha, I am a simulated friend, but the messages really travel through a local server.
demo-sam-3 = See you Friday!
demo-mum-1 = Lovely. Your message came as an SMS through your phone: the carrier can read it.
demo-mum-2 = Bring dessert, please.
demo-mum-3 = Love you. Call me sometime!

## Settings
settings-open = Settings
settings-title = Settings
settings-close = Close
settings-theme = Theme
theme-system = System
theme-light = Light
theme-dark = Dark
theme-high-contrast = High contrast
settings-font-scale = Text size
font-scale-percent = { $percent } %
settings-language = Language
language-system = System
language-en = English
language-fr = Français
settings-notifications = Desktop notifications for new messages
settings-on = On
settings-off = Off
settings-strangers = Who may write to you directly
settings-strangers-hint = For each network. Everyone else waits in Requests until you answer.
stranger-contacts = Only my contacts
stranger-shared-room = Contacts and people in my group chats
stranger-anyone = Anyone
settings-file-broken = Your settings file could not be read ({ $reason }); the defaults are in use until you change something.
settings-unknown-keys = Settings this version does not know were ignored: { $keys }
settings-save-failed = Could not save the settings: { $reason }

## Quick switcher (Ctrl+K) and search (Ctrl+F)
switcher-placeholder = Go to a conversation…
switcher-empty = No conversation matches.
search-placeholder = Search all your messages…
search-empty = No message matches.
overlay-keys-hint = ↑ ↓ to choose, Enter to open, Esc to close. Ctrl+K: conversations, Ctrl+F: search, Alt+↑ ↓: previous or next chat.
chat-show-latest = Show the latest messages

## Account setup
setup-open = Add an account
setup-title = Add an account
setup-cancel = Cancel
setup-network = Network
setup-required = Required
setup-not-a-number = Enter a number
setup-failed = The account could not be added: { $reason }
setup-keyring-note = The password is kept in your system's keyring, never in Koine's files.
setup-add = Add the account
setup-adding = Adding…

## Questions from the networks (dialogs)
prompt-pin-title = Trust the certificate of { $host }?
prompt-pin-body = The certificate of { $host } is not trusted ({ $reason }). Pin it only if this fingerprint is the one its operator gave you:
prompt-pin-confirm = Pin the certificate
prompt-pin-reject = Do not connect
prompt-emoji-title = Verify { $with }
prompt-emoji-body = Check that { $with } sees the same emoji, in the same order.
prompt-number-title = Verify { $with }
prompt-number-body = Compare this safety number with the one { $with } sees, in person or on a call.
prompt-match = They match
prompt-differ = They differ
prompt-pair-title = Pair with { $device }?
prompt-pair-body = Check that { $device } shows the same key before pairing:
prompt-pair-confirm = Pair
prompt-pair-reject = Refuse
prompt-identity-title = The identity key of { $with } changed
prompt-identity-body = It happens when someone reinstalls their app or changes phone, and also when someone else tries to read the conversation. Check the new fingerprint with them before you trust it:
prompt-identity-confirm = Trust the new key
prompt-identity-reject = Do not trust
prompt-plaintext-title = Your message to { $to } cannot be encrypted
prompt-plaintext-body = Your earlier messages to { $to } were end-to-end encrypted, but their encryption keys cannot be found now. Sent anyway, this one message can be read by the servers on its way.
prompt-plaintext-confirm = Send this one unencrypted
prompt-plaintext-reject = Do not send
prompt-other-title = A network asks for your confirmation
prompt-other-confirm = Confirm
prompt-other-reject = Refuse
prompt-more = { $count ->
    [one] One more question waits.
   *[other] { $count } more questions wait.
}

## Desktop notifications
notify-summary = { $name } · { $network }

## Requests inbox
request-kind-contact = Contact request
request-kind-invite = Invitation to a room
request-kind-invite-named = Invitation to { $room }
request-kind-first-message = First message
request-kind-opt-in = Opted in from { $provider }
request-kind-other = Request
request-accept = Accept
request-decline = Decline
request-block = Block
request-report = Report

## People
people-open = People
people-title = People
people-empty = No one yet. People appear with your contacts and conversations.
people-history = History
people-history-title = { $name } on every network
people-history-empty = No messages with this person yet.
people-history-you = You
people-no-account = no account reaches it
people-split = Split out
people-undo = Undo
people-merge-picked = Merge the { $count } picked
people-undone-merge = The merge was undone.
people-undone-split = The split was undone.
people-nothing-to-undo = Nothing to undo.
people-import = Import vCard…
people-drop-hint = or drop a vCard file here
people-import-title = Import a vCard address book
people-export-title = Export everyone as vCard
people-vcard-too-large = the file is too large for an address book (over 32 MiB)
people-export = Export vCard…
people-imported = Imported: { $created } new, { $updated } updated, { $skipped } values skipped.
people-exported = { $count ->
    [one] One person exported.
   *[other] { $count } people exported.
}
people-failed = That did not work: { $reason }
suggest-heading = Maybe the same person
suggest-strong = Strong match
suggest-weak = Weak match (name only)
suggest-pair = { $a } and { $b }
suggest-same-number = Same phone number: { $value }
suggest-same-address = Same address on two accounts: { $value }
suggest-in-profile = A profile names { $value }
suggest-typed = You typed { $value } for one of them
suggest-address-book = Your address book names { $value }
suggest-same-name = Only the same name: { $value }
suggest-other = Another identifier matches
suggest-merge = Merge
suggest-dismiss = Not the same

## Route choice in the composer
compose-route = Sends by { $network } · { $protection }
compose-route-other = Other routes:
protection-e2e-verified = end-to-end encrypted, verified
protection-e2e-unverified = end-to-end encrypted, not verified
protection-transport = encrypted to the server only; servers can read it
protection-exposed = not encrypted; your carrier can read it
protection-bridged = through a bridge
protection-estimated = estimated
downgrade-title = Send by { $network }?
downgrade-exposed = Your carrier can read it. A better protected route to this person exists.
downgrade-transport = The servers on the way can read it. A better protected route to this person exists.
downgrade-bridged = A bridge on the way can read it. A better protected route to this person exists.
downgrade-unverified = The keys of this route are not verified. A verified route to this person exists.
downgrade-once = Send this once
downgrade-always = Always for { $name }
downgrade-cancel = Cancel
request-failed = The answer did not reach the network: { $reason }
people-pick-to-merge = Tick two people to merge them
people-history-close = Close
compose-sent-elsewhere = Sent by { $network }: it is in that chat.
compose-open-that-chat = Open that chat
people-rename = Rename
people-rename-placeholder = Name
people-rename-save = Save
blocked-title = Blocked in Koine
blocked-none = No one is blocked.
blocked-unblock = Unblock
people-add-address = Add an address
people-add-placeholder = Phone number, user@server or @user:server
people-add-save = Add
people-add-invalid = That is not an address: { $reason }
people-add-reached-by = Reached through (none: address book only):

## Message actions, replies and attachments
message-reply = Reply
message-edit = Edit
message-delete = Delete
message-reply-unknown = an earlier message
message-actions-unsent = Not sent yet: it can be changed once the network has it.
attachment-remote = on the server
file-open = Open
file-open-failed = Could not open the file: { $reason }
composer-attach = Attach…
composer-replying = Replying to { $name }: { $text }
composer-editing = Editing your message (Esc cancels)
composer-cancel = Cancel
attach-title = Attach files
attach-failed = Could not attach: { $reason }
change-failed = Could not change the message: { $reason }

## Notices from the networks
notice-malformed-input = Something unreadable from the { $source ->
    [server] server
    [peer] other person's app
    [device] phone
    [file] file
   *[other] network
} was skipped.
notice-plugin-failed = This account's connection stopped on an internal error; it restarts by itself.
notice-identity-key-changed = The security key of { $contact } changed. Check it with them before trusting this chat again.
notice-recipient-not-opted-in = { $contact } has not agreed to receive messages from this network.
notice-chat-read-only = { $contact } no longer accepts messages here; the chat is read-only.
notice-rate-limited = The server asks to slow down.
notice-rate-limited-for = The server asks to slow down for { $seconds } s.
notice-certificate-rejected = The certificate of { $host } was refused: { $reason }
notice-prekeys-low = Only { $remaining } encryption prekeys left on the server; more are being uploaded.
notice-device-unreachable = Your phone “{ $device }” cannot be reached.
notice-attachment-too-large = The file is too large for this network (at most { $max }).
notice-unsupported = This server does not offer { $feature }.
notice-task-history-sync = Syncing history
notice-task-upload = Uploading
notice-progress = { $task }: { $done }
notice-progress-of = { $task }: { $done } of { $total }
notice-other = The network reported something this version cannot show.
prompt-browser-title = Sign in to { $server }
prompt-browser-body = This server signs you in on its own web page. Open it in your browser, sign in there, and come back: Koine continues by itself. Check that the address below is your server's.
prompt-browser-confirm = Open in the browser
prompt-browser-reject = Cancel
prompt-recovery-title = Save your recovery key for { $account }
prompt-recovery-body = This key unlocks your encrypted message history on a new device, even if this computer is lost. Koine keeps a copy in this computer's keyring only. Copy it into a password manager or write it down, and keep it private: whoever has it can read your encrypted history.
prompt-recovery-confirm = I have saved it
prompt-recovery-reject = Remind me next time
prompt-copy = Copy
inspector-history-encrypted = History: stored encrypted on this computer (its key is in the system keyring).
history-encrypting = Encrypting your history: { $percent }%
history-key-unavailable = Koine could not get the key of your history from the system keyring ({ $reason }). Unlock the keyring, or allow Koine to use it, and start Koine again. Your history was left encrypted and untouched.
history-key-missing = Your history is encrypted and its key is no longer in the system keyring. Koine does not open it without that key, and does not replace it with an empty one.
history-key-wrong = The key in the system keyring does not open your history: the file is damaged or was encrypted with another key. It was left untouched.
history-encryption-failed = Encrypting your history failed ({ $reason }). The unencrypted file was kept as it was; Koine tries again at its next start.

## Presence (XMPP, Matrix): under a direct chat's title
presence-online = Online
presence-away = Away
presence-busy = Busy
presence-offline = Offline
presence-with-status = { $presence }: { $status }
