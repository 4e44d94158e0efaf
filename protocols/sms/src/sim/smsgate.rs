//! The SMSGate phone side (to come).
