# La fenêtre de Koine (crate koine-ui). Les variables doivent correspondre à i18n/en/koine-ui.ftl.

app-title = Koine

## Comptes
accounts-heading = Comptes
accounts-empty = Aucun compte pour l’instant : ajoutez-en un, ou lancez `koine --demo` pour essayer Koine avec des personnes simulées.
welcome-title = Bienvenue dans Koine
welcome-body = Koine réunit vos conversations de plusieurs réseaux dans une seule fenêtre : messageries, serveurs Matrix et XMPP, et les SMS de votre propre téléphone.
welcome-route = Sous chaque conversation et chaque message, Koine montre son trajet : quels serveurs, passerelles, téléphones et opérateurs le transportent, et où s’arrête le chiffrement de bout en bout, pour que vous sachiez toujours qui peut lire quoi.
welcome-networks = Réseaux que vous pouvez ajouter
welcome-add-account = Ajouter un compte
welcome-try-demo = Essayer la démo
welcome-demo-note = La démo ouvre une seconde fenêtre avec des personnes et des réseaux simulés ; rien ne quitte cet ordinateur.
account-stopped = Arrêté
account-connecting = Connexion…
account-online = En ligne
account-offline = Hors ligne : { $reason } (nouvel essai dans { $seconds } s)
account-failed = Arrêté : { $reason }
account-retry = Réessayer
status-reason-auth = le serveur a refusé l’identifiant ou le mot de passe
status-reason-network = serveur injoignable
status-reason-untrusted = l’identité du serveur n’a pas pu être vérifiée
status-reason-protocol = le serveur a envoyé des données que Koine n’accepte pas
status-reason-settings = les réglages du compte sont incomplets ou faux
status-reason-keyring = le trousseau du système a refusé ou échoué
status-reason-plugin-storage = les fichiers du réseau dans le profil n’ont pas pu être écrits
status-reason-store = Koine n’a pas pu enregistrer dans son historique ; rien n’est perdu, le réseau renverra plus tard
status-reason-plugin-failed = le module du réseau a échoué
status-reason-closed = le serveur a fermé la session
status-reason-other = { $reason }
engine-store-error = Koine n’a pas pu enregistrer dans son historique ({ $detail }). Rien n’a été confirmé au réseau ; il renverra dès que l’enregistrement fonctionne.

## Listes de conversations
inbox-heading = Conversations
inbox-empty = Aucune conversation pour l’instant.
filter-all = Toutes
filter-unread = Non lues
requests-heading = Demandes
requests-empty = Aucune demande en attente.
requests-hint = Des personnes que vous ne connaissez pas encore. Rien ne leur est montré avant votre réponse.
unread-count = { $count ->
    [one] { $count } non lu
   *[other] { $count } non lus
}
pinned-marker = Épinglée
list-typing = écrit…
chat-typing = { $name } est en train d’écrire…
preview-you = Vous : { $text }
preview-sender = { $name } : { $text }
preview-attachment = Pièce jointe
preview-deleted = Message supprimé

## Discussion
chat-none-selected = Choisissez une conversation à gauche.
chat-empty = Aucun message pour l’instant.
chat-read-only = Cette conversation est en lecture seule.
composer-placeholder = Écrivez un message. Entrée envoie, Maj+Entrée passe à la ligne.
composer-send = Envoyer
day-today = Aujourd’hui
day-yesterday = Hier
delivery-queued = En attente d’envoi
delivery-handed = Confié au téléphone, envoi non confirmé
delivery-sent = Envoyé
delivery-delivered = Distribué
delivery-read = Lu
delivery-failed = Non envoyé : { $reason }
message-edited = (modifié)
message-deleted = Ce message a été supprimé.
message-attachments = { $count ->
    [one] { $count } pièce jointe
   *[other] { $count } pièces jointes
}
send-failed = Envoi impossible : { $reason }
send-error-not-opted-in = le destinataire n’a pas activé les discussions avec d’autres applications
send-error-blocked = bloqué
send-error-no-such-recipient = destinataire inconnu
send-error-too-large = trop volumineux pour ce réseau
send-error-rate-limited = le serveur demande de ralentir ; Koine réessaiera plus tard
send-error-offline = hors connexion ; Koine l’enverra quand le compte sera de retour
send-error-read-only = cette conversation est en lecture seule
send-error-unsupported = ce réseau ne permet pas cela ({ $what })
send-error-not-paired = le téléphone qui le relaie n’est pas appairé
send-error-identity-changed = la clé de sécurité de { $with } a changé depuis que vous l’avez vérifiée. Comparez le nouveau numéro de sécurité et acceptez-le avant d’envoyer.
send-error-cannot-encrypt = il ne peut pas être chiffré de bout en bout pour l’instant, il n’a donc pas été envoyé en clair ({ $reason })
send-error-rejected = le serveur l’a refusé ({ $why })

## La ligne de route
route-unknown = route encore inconnue
route-federation = fédération
route-e2e-verified = chiffré de bout en bout, vérifié
route-e2e-unverified = chiffré de bout en bout, non vérifié
route-e2e-identity-changed = chiffré de bout en bout, mais sa clé a changé : vérifiez à nouveau
route-not-e2e-readers = pas chiffré de bout en bout : { $readers } peut lire vos messages
route-not-e2e = pas chiffré de bout en bout
route-provisional-e2e = route provisoire : chiffré de bout en bout si le réseau l’envoie comme prévu
route-provisional = route provisoire : { $summary }, jusqu’à ce que le réseau dise comment il est parti
route-provisional-unknown = route inconnue tant que le réseau ne l’a pas envoyé
route-settled-weaker = Votre message est parti moins protégé que cette conversation ne le promettait : { $summary }
route-details = Détails de la route

## L’inspecteur de route
inspector-title = Comment voyage cette conversation
inspector-close = Fermer
inspector-you = Vous
inspector-them = Votre correspondant
inspector-band = portion chiffrée de bout en bout
inspector-reads-content = lit vos messages
inspector-reads-metadata = voit qui, quand et combien, pas le contenu
inspector-sees-ip = voit votre adresse IP
inspector-operator = exploité par { $operator }
inspector-operator-unknown = exploitant inconnu
inspector-e2e-scheme = Chiffrement de bout en bout : { $scheme }
inspector-e2e-none = Pas de chiffrement de bout en bout : les étapes marquées comme lisant voient chaque message.
inspector-e2e-ends = Le chiffrement de bout en bout s’arrête à { $host }.
inspector-verified = Clés vérifiées.
inspector-unverified = Clés pas encore vérifiées.
inspector-identity-changed = Sa clé d’identité a changé depuis votre dernier échange.
inspector-fingerprint = Numéro de sécurité ou empreinte : { $fingerprint }
hop-client-link = votre serveur
hop-federation = son serveur
hop-bridge = passerelle vers { $network }
hop-gateway = passerelle
hop-gateway-to = passerelle vers { $network }
hop-relay-device = votre appareil relais
hop-carrier = opérateur mobile
hop-proxy = mandataire
hop-media-host = hébergeur de fichiers
hop-other = autre étape
transport-tls = TLS { $version }, certificat vérifié
transport-tls-pinned = TLS { $version }, certificat épinglé par vous
transport-noise = Noise ({ $protocol })
transport-lan = TLS sur le réseau local, épinglé à l’appairage ({ $fingerprint })
transport-cellular = chiffrement radio cellulaire ; l’opérateur détient les clés
transport-plaintext = aucun chiffrement
transport-unknown = lien invisible depuis cet appareil
transport-other = autre protection

## Mode démo (koine --demo) : ce qu’écrivent les personnes simulées
demo-name-lena = Lena
demo-name-sam = Sam
demo-name-mum = Maman
demo-opening-lena = Salut Lena ! J’essaie Koine.
demo-opening-sam = On se voit toujours vendredi ?
demo-opening-mum = Tu viens déjeuner dimanche ?
demo-lena-1 = Salut ! Ton message est arrivé dans ma messagerie par la passerelle d’interopérabilité, chiffré de bout en bout.
demo-lena-2 = Clique sur « Détails de la route » en haut : on y voit chaque serveur entre nous et ce que chacun peut voir.
demo-lena-3 = Écris ce que tu veux, je réponds toujours.
demo-sam-1 = Oui ! Sept heures, au même endroit que d’habitude.
demo-sam-2 = Ha, je suis un ami simulé, mais les messages passent vraiment par un serveur local.
demo-sam-3 = À vendredi !
demo-mum-1 = Avec plaisir. Ton message est arrivé par SMS via ton téléphone : l’opérateur peut le lire.
demo-mum-2 = Apporte le dessert, s’il te plaît.
demo-mum-3 = Je t’embrasse. Appelle-moi un de ces jours !

## Paramètres
settings-open = Paramètres
settings-title = Paramètres
settings-close = Fermer
settings-theme = Thème
theme-system = Système
theme-light = Clair
theme-dark = Sombre
theme-high-contrast = Contraste élevé
settings-font-scale = Taille du texte
font-scale-percent = { $percent } %
settings-language = Langue
language-system = Système
language-en = English
language-fr = Français
settings-notifications = Notifications de bureau pour les nouveaux messages
settings-on = Activées
settings-off = Désactivées
settings-strangers = Qui peut vous écrire directement
settings-strangers-hint = Pour chaque réseau. Les autres attendent dans les Demandes jusqu’à votre réponse.
stranger-contacts = Seulement mes contacts
stranger-shared-room = Mes contacts et les membres de mes groupes
stranger-anyone = Tout le monde
settings-file-broken = Votre fichier de paramètres n’a pas pu être lu ({ $reason }) ; les valeurs par défaut s’appliquent jusqu’à votre prochain changement.
settings-unknown-keys = Des paramètres inconnus de cette version ont été ignorés : { $keys }
settings-save-failed = Impossible d’enregistrer les paramètres : { $reason }

## Sélecteur rapide (Ctrl+K) et recherche (Ctrl+F)
switcher-placeholder = Aller à une conversation…
switcher-empty = Aucune conversation ne correspond.
search-placeholder = Chercher dans tous vos messages…
search-empty = Aucun message ne correspond.
overlay-keys-hint = ↑ ↓ pour choisir, Entrée pour ouvrir, Échap pour fermer. Ctrl+K : conversations, Ctrl+F : recherche, Alt+↑ ↓ : discussion précédente ou suivante.
chat-show-latest = Voir les derniers messages

## Ajout de compte
setup-open = Ajouter un compte
setup-title = Ajouter un compte
setup-cancel = Annuler
setup-network = Réseau
setup-required = Obligatoire
setup-not-a-number = Saisissez un nombre
setup-failed = Le compte n’a pas pu être ajouté : { $reason }
setup-keyring-note = Le mot de passe est gardé dans le trousseau de votre système, jamais dans les fichiers de Koine.
setup-add = Ajouter le compte
setup-adding = Ajout…

## Questions des réseaux (boîtes de dialogue)
prompt-pin-title = Faire confiance au certificat de { $host } ?
prompt-pin-body = Le certificat de { $host } n’est pas reconnu ({ $reason }). Ne l’épinglez que si cette empreinte est celle que son opérateur vous a donnée :
prompt-pin-confirm = Épingler le certificat
prompt-pin-reject = Ne pas se connecter
prompt-emoji-title = Vérifier { $with }
prompt-emoji-body = Vérifiez que { $with } voit les mêmes emoji, dans le même ordre.
prompt-number-title = Vérifier { $with }
prompt-number-body = Comparez ce numéro de sécurité avec celui que voit { $with }, en personne ou lors d’un appel.
prompt-match = Ils correspondent
prompt-differ = Ils diffèrent
prompt-pair-title = Associer { $device } ?
prompt-pair-body = Vérifiez que { $device } affiche la même clé avant d’associer :
prompt-pair-confirm = Associer
prompt-pair-reject = Refuser
prompt-identity-title = La clé d’identité de { $with } a changé
prompt-identity-body = Cela arrive quand quelqu’un réinstalle son application ou change de téléphone, mais aussi quand une autre personne tente de lire la conversation. Vérifiez la nouvelle empreinte avec la personne avant de lui faire confiance :
prompt-identity-confirm = Faire confiance à la nouvelle clé
prompt-identity-reject = Ne pas faire confiance
prompt-plaintext-title = Votre message à { $to } ne peut pas être chiffré
prompt-plaintext-body = Vos messages précédents à { $to } étaient chiffrés de bout en bout, mais ses clés de chiffrement sont introuvables pour l’instant. Envoyé quand même, ce message pourra être lu par les serveurs sur son chemin.
prompt-plaintext-confirm = Envoyer ce message sans chiffrement
prompt-plaintext-reject = Ne pas envoyer
prompt-other-title = Un réseau demande votre confirmation
prompt-other-confirm = Confirmer
prompt-other-reject = Refuser
prompt-more = { $count ->
    [one] Une autre question attend.
   *[other] { $count } autres questions attendent.
}

## Notifications de bureau
notify-summary = { $name } · { $network }

## Demandes
request-kind-contact = Demande de contact
request-kind-invite = Invitation dans un salon
request-kind-invite-named = Invitation dans { $room }
request-kind-first-message = Premier message
request-kind-opt-in = A choisi de vous joindre depuis { $provider }
request-kind-other = Demande
request-accept = Accepter
request-decline = Refuser
request-block = Bloquer
request-report = Signaler

## Personnes
people-open = Personnes
people-title = Personnes
people-empty = Personne pour l’instant. Les personnes apparaissent avec vos contacts et vos conversations.
people-history = Historique
people-history-title = { $name } sur tous les réseaux
people-history-empty = Aucun message avec cette personne pour l’instant.
people-history-you = Vous
people-no-account = aucun compte ne la joint
people-split = Séparer
people-undo = Annuler
people-merge-picked = Fusionner les { $count } choisies
people-undone-merge = La fusion a été annulée.
people-undone-split = La séparation a été annulée.
people-nothing-to-undo = Rien à annuler.
people-import = Importer un vCard…
people-drop-hint = ou déposez un fichier vCard ici
people-import-title = Importer un carnet d’adresses vCard
people-export-title = Exporter tout le monde en vCard
people-vcard-too-large = le fichier est trop gros pour un carnet d’adresses (plus de 32 Mio)
people-export = Exporter en vCard…
people-imported = Importé : { $created } nouvelles, { $updated } mises à jour, { $skipped } valeurs ignorées.
people-exported = { $count ->
    [one] Une personne exportée.
   *[other] { $count } personnes exportées.
}
people-failed = Cela n’a pas marché : { $reason }
suggest-heading = Peut-être la même personne
suggest-strong = Correspondance forte
suggest-weak = Correspondance faible (nom seulement)
suggest-pair = { $a } et { $b }
suggest-same-number = Même numéro de téléphone : { $value }
suggest-same-address = Même adresse sur deux comptes : { $value }
suggest-in-profile = Un profil indique { $value }
suggest-typed = Vous avez saisi { $value } pour l’une d’elles
suggest-address-book = Votre carnet d’adresses indique { $value }
suggest-same-name = Seulement le même nom : { $value }
suggest-other = Un autre identifiant correspond
suggest-merge = Fusionner
suggest-dismiss = Pas la même personne

## Choix de la route dans la zone de saisie
compose-route = Envoi par { $network } · { $protection }
compose-route-other = Autres routes :
protection-e2e-verified = chiffré de bout en bout, vérifié
protection-e2e-unverified = chiffré de bout en bout, non vérifié
protection-transport = chiffré jusqu’au serveur seulement ; les serveurs peuvent le lire
protection-exposed = non chiffré ; votre opérateur peut le lire
protection-bridged = par une passerelle
protection-estimated = estimé
downgrade-title = Envoyer par { $network } ?
downgrade-exposed = Votre opérateur peut le lire. Une route mieux protégée vers cette personne existe.
downgrade-transport = Les serveurs sur le chemin peuvent le lire. Une route mieux protégée vers cette personne existe.
downgrade-bridged = Une passerelle sur le chemin peut le lire. Une route mieux protégée vers cette personne existe.
downgrade-unverified = Les clés de cette route ne sont pas vérifiées. Une route vérifiée vers cette personne existe.
downgrade-once = Envoyer cette fois
downgrade-always = Toujours pour { $name }
downgrade-cancel = Annuler
request-failed = La réponse n’a pas atteint le réseau : { $reason }
people-pick-to-merge = Cochez deux personnes pour les fusionner
people-history-close = Fermer
compose-sent-elsewhere = Envoyé par { $network } : il est dans cette conversation-là.
compose-open-that-chat = Ouvrir cette conversation
people-rename = Renommer
people-rename-placeholder = Nom
people-rename-save = Enregistrer
blocked-title = Bloqués dans Koine
blocked-none = Personne n’est bloqué.
blocked-unblock = Débloquer
people-add-address = Ajouter une adresse
people-add-placeholder = Numéro de téléphone, utilisateur@serveur ou @utilisateur:serveur
people-add-save = Ajouter
people-add-invalid = Ce n’est pas une adresse : { $reason }
people-add-reached-by = Joignable par (aucun : carnet d’adresses seulement) :

## Message actions, replies and attachments
message-reply = Répondre
message-edit = Modifier
message-delete = Supprimer
message-reply-unknown = un message précédent
message-actions-unsent = Pas encore envoyé : il pourra être modifié une fois reçu par le réseau.
attachment-remote = sur le serveur
file-open = Ouvrir
file-open-failed = Impossible d’ouvrir le fichier : { $reason }
composer-attach = Joindre…
composer-replying = Réponse à { $name } : { $text }
composer-editing = Modification de votre message (Échap pour annuler)
composer-cancel = Annuler
attach-title = Joindre des fichiers
attach-failed = Impossible de joindre : { $reason }
change-failed = Impossible de modifier le message : { $reason }

## Notices from the networks
notice-malformed-input = Un élément illisible venant { $source ->
    [server] du serveur
    [peer] de l’application de votre correspondant
    [device] du téléphone
    [file] du fichier
   *[other] du réseau
} a été ignoré.
notice-plugin-failed = La connexion de ce compte s’est arrêtée sur une erreur interne ; elle redémarre d’elle-même.
notice-identity-key-changed = La clé de sécurité de { $contact } a changé. Vérifiez-la avec cette personne avant de refaire confiance à cette discussion.
notice-recipient-not-opted-in = { $contact } n’a pas accepté de recevoir des messages de ce réseau.
notice-chat-read-only = { $contact } n’accepte plus de messages ici ; la discussion est en lecture seule.
notice-rate-limited = Le serveur demande de ralentir.
notice-rate-limited-for = Le serveur demande de ralentir pendant { $seconds } s.
notice-certificate-rejected = Le certificat de { $host } a été refusé : { $reason }
notice-prekeys-low = Il ne reste que { $remaining } préclés de chiffrement sur le serveur ; d’autres sont en cours d’envoi.
notice-device-unreachable = Votre téléphone « { $device } » est injoignable.
notice-attachment-too-large = Le fichier est trop volumineux pour ce réseau ({ $max } au plus).
notice-unsupported = Ce serveur ne propose pas { $feature }.
notice-task-history-sync = Synchronisation de l’historique
notice-task-upload = Envoi du fichier
notice-progress = { $task } : { $done }
notice-progress-of = { $task } : { $done } sur { $total }
notice-other = Le réseau a signalé quelque chose que cette version ne sait pas afficher.
prompt-browser-title = Se connecter à { $server }
prompt-browser-body = Ce serveur vous connecte sur sa propre page web. Ouvrez-la dans votre navigateur, connectez-vous, puis revenez : Koine continue tout seul. Vérifiez que l’adresse ci-dessous est bien celle de votre serveur.
prompt-browser-confirm = Ouvrir dans le navigateur
prompt-browser-reject = Annuler
prompt-recovery-title = Enregistrez votre clé de récupération pour { $account }
prompt-recovery-body = Cette clé déverrouille l’historique chiffré de vos messages sur un nouvel appareil, même si cet ordinateur est perdu. Koine n’en garde une copie que dans le trousseau de cet ordinateur. Copiez-la dans un gestionnaire de mots de passe ou notez-la, et gardez-la secrète : qui la possède peut lire votre historique chiffré.
prompt-recovery-confirm = Je l’ai enregistrée
prompt-recovery-reject = Me le rappeler la prochaine fois
prompt-copy = Copier
inspector-history-encrypted = Historique : stocké chiffré sur cet ordinateur (sa clé est dans le trousseau du système).
history-encrypting = Chiffrement de votre historique : { $percent } %
history-key-unavailable = Koine n’a pas pu obtenir la clé de votre historique auprès du trousseau du système ({ $reason }). Déverrouillez le trousseau, ou autorisez Koine à l’utiliser, puis relancez Koine. Votre historique est resté chiffré et intact.
history-key-missing = Votre historique est chiffré et sa clé n’est plus dans le trousseau du système. Koine ne l’ouvre pas sans cette clé et ne le remplace pas par un historique vide.
history-key-wrong = La clé du trousseau du système n’ouvre pas votre historique : le fichier est endommagé ou a été chiffré avec une autre clé. Il n’a pas été modifié.
history-encryption-failed = Le chiffrement de votre historique a échoué ({ $reason }). Le fichier non chiffré a été conservé tel quel ; Koine réessaiera au prochain démarrage.

## Présence (XMPP, Matrix) : sous le titre d’une conversation directe
presence-online = En ligne
presence-away = Absent
presence-busy = Occupé
presence-offline = Hors ligne
presence-with-status = { $presence } : { $status }
