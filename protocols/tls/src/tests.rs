//! Real handshakes between a rustls client and server in memory.

use crate::test_ca::TestCa;
use crate::{client_config, fingerprint, read_certs, server_config};
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, ServerConnection};

/// Runs a handshake; `Ok` once both sides finished.
fn handshake(
    client: std::sync::Arc<rustls::ClientConfig>,
    server: std::sync::Arc<rustls::ServerConfig>,
    name: &str,
) -> Result<(), rustls::Error> {
    let name = ServerName::try_from(name.to_owned()).expect("name");
    let mut c = ClientConnection::new(client, name)?;
    let mut s = ServerConnection::new(server)?;
    for _ in 0..20 {
        let mut buf = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut buf).expect("write");
        }
        let mut rd = buf.as_slice();
        while !rd.is_empty() {
            s.read_tls(&mut rd).expect("read");
        }
        s.process_new_packets()?;
        let mut buf = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut buf).expect("write");
        }
        let mut rd = buf.as_slice();
        while !rd.is_empty() {
            c.read_tls(&mut rd).expect("read");
        }
        c.process_new_packets()?;
        if !c.is_handshaking() && !s.is_handshaking() {
            return Ok(());
        }
    }
    Err(rustls::Error::General("handshake did not finish".into()))
}

#[test]
fn the_extra_ca_is_trusted_for_the_names_it_signed() {
    let dir = tempfile::tempdir().expect("tmp");
    let ca = TestCa::create(dir.path()).expect("ca");
    let server = server_config(&ca.cert_file, &ca.key_file).expect("server");
    let (client, verifier) = client_config(Some(&ca.ca_file), vec![]).expect("client");
    handshake(client.clone(), server.clone(), "127.0.0.1").expect("by IP");
    handshake(client.clone(), server.clone(), "localhost").expect("by name");
    assert!(!verifier.used_pin());
    // A name the certificate does not carry is refused.
    assert!(handshake(client, server, "example.org").is_err());
    assert!(verifier.refusal().is_some());
}

#[test]
fn without_the_ca_it_is_refused_and_a_pin_lets_it_through() {
    let dir = tempfile::tempdir().expect("tmp");
    let ca = TestCa::create(dir.path()).expect("ca");
    let server = server_config(&ca.cert_file, &ca.key_file).expect("server");
    let (client, verifier) = client_config(None, vec![]).expect("client");
    assert!(handshake(client, server.clone(), "127.0.0.1").is_err());
    let refusal = verifier.refusal().expect("refusal recorded");
    let leaf = read_certs(&ca.cert_file).expect("leaf");
    assert_eq!(refusal.fingerprint, fingerprint(leaf[0].as_ref()));
    // The user confirmed this exact certificate.
    let (client, verifier) = client_config(None, vec![refusal.fingerprint]).expect("client");
    handshake(client, server.clone(), "127.0.0.1").expect("pinned");
    assert!(verifier.used_pin());
    // Another certificate's pin does not help.
    let other = tempfile::tempdir().expect("tmp");
    let other = TestCa::create(other.path()).expect("ca");
    let other_leaf = read_certs(&other.cert_file).expect("leaf");
    let (client, _) =
        client_config(None, vec![fingerprint(other_leaf[0].as_ref())]).expect("client");
    assert!(handshake(client, server, "127.0.0.1").is_err());
}

#[test]
fn bad_files_are_typed_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("none.pem");
    assert!(client_config(Some(&missing), vec![]).is_err());
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate").expect("write");
    assert!(client_config(Some(&empty), vec![]).is_err());
    assert!(server_config(&empty, &empty).is_err());
}

#[test]
fn fingerprints_are_colon_hex() {
    let fp = fingerprint(b"abc");
    assert_eq!(fp.len(), 32 * 3 - 1);
    assert!(fp.starts_with("BA:78:16:BF"));
}
