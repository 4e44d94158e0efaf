//! Koine plugin for SMS through the user's phone (KDE Connect protocol, SMSGate)
