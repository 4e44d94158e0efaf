//! The two HTTP listeners: the provider's (auth endpoint and media host) and
//! the gatekeeper's (its users' media host and the media proxy).

use super::Shared;
use super::db::now_ms;
use crate::wire::Peer;
use crate::wire::http::{Url, parse_form, read_request, write_response};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

/// The largest media object: 16 MiB of plaintext plus the AES-GCM tag.
pub const MAX_MEDIA: usize = 16 * 1024 * 1024 + 64;

/// Which listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The third-party provider.
    Provider,
    /// The gatekeeper.
    Gatekeeper,
}

impl Role {
    fn host(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Gatekeeper => "gatekeeper",
        }
    }
}

/// Serves one listener forever, over TLS when an acceptor is given.
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    role: Role,
    shared: Arc<Shared>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let result = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(s) => handle(s, role, &shared).await,
                    Err(e) => Err(crate::wire::http::HttpError::Tls(e.to_string())),
                },
                None => handle(stream, role, &shared).await,
            };
            if let Err(e) = result {
                tracing::debug!(role = role.host(), error = %e, "http request failed");
            }
        });
    }
}

async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    role: Role,
    shared: &Shared,
) -> Result<(), crate::wire::http::HttpError> {
    let req = match read_request(&mut s, MAX_MEDIA).await {
        Ok(r) => r,
        Err(crate::wire::http::HttpError::TooLarge { .. }) => {
            return write_response(&mut s, 413, b"too-large").await;
        }
        Err(e) => {
            let _ = write_response(&mut s, 400, b"bad-request").await;
            return Err(e);
        }
    };
    let (status, body) = route(role, shared, &req).await;
    tracing::info!(role = role.host(), method = %req.method, path = %req.path, status, bytes = req.body.len(), "http");
    write_response(&mut s, status, &body).await
}

async fn route(role: Role, shared: &Shared, req: &crate::wire::http::Request) -> (u16, Vec<u8>) {
    let db = &shared.db;
    match (role, req.method.as_str(), req.path.as_str()) {
        (Role::Provider, "POST", "/v1/auth") => {
            let Ok(form) = parse_form(&String::from_utf8_lossy(&req.body)) else {
                return (400, b"bad-request".to_vec());
            };
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            let (Some(user), Some(password)) = (get("user"), get("password")) else {
                return (400, b"bad-request".to_vec());
            };
            let Ok(peer @ Peer::ThirdParty(_)) = Peer::parse(user) else {
                return (401, b"not-authorized".to_vec());
            };
            if shared
                .hub
                .take(&format!("login:{peer}"), 10.0 / 60.0, 10.0)
                .is_err()
            {
                return (429, b"rate-limited".to_vec());
            }
            match db.check_password(&peer, password) {
                Ok(true) => match db.issue_token(&peer) {
                    Ok(t) => (200, t.into_bytes()),
                    Err(_) => (500, b"internal".to_vec()),
                },
                Ok(false) => (401, b"not-authorized".to_vec()),
                Err(_) => (500, b"internal".to_vec()),
            }
        }
        (_, "PUT", "/v1/media") => {
            let Some(token) = req.bearer() else {
                return (401, b"not-authorized".to_vec());
            };
            let owner = match role {
                Role::Provider => db.token_owner(token).ok().flatten(),
                Role::Gatekeeper => shared
                    .hub
                    .session_owner(token)
                    .filter(|o| o.starts_with('+')),
            };
            let Some(owner) = owner else {
                return (401, b"not-authorized".to_vec());
            };
            let id = hex::encode(rand::random::<[u8; 16]>());
            if db.put_media(&id, role.host(), &owner, &req.body).is_err() {
                return (500, b"internal".to_vec());
            }
            let origin = match role {
                Role::Provider => &shared.provider_origin,
                Role::Gatekeeper => &shared.gatekeeper_origin,
            };
            (201, format!("{origin}/v1/media/{id}").into_bytes())
        }
        (_, "GET", path) if path.starts_with("/v1/media/") => {
            let id = path.strip_prefix("/v1/media/").unwrap_or_default();
            match db.media(id, role.host()) {
                Ok(Some(b)) => (200, b),
                Ok(None) => (404, b"item-not-found".to_vec()),
                Err(_) => (500, b"internal".to_vec()),
            }
        }
        (Role::Gatekeeper, "GET", "/v1/proxy") => {
            if req
                .bearer()
                .and_then(|t| shared.hub.session_owner(t))
                .is_none()
            {
                return (401, b"not-authorized".to_vec());
            }
            let Some(url) = req.query("url") else {
                return (400, b"bad-request".to_vec());
            };
            let Ok(parsed) = Url::parse(url) else {
                return (403, b"not-allowed".to_vec());
            };
            let origin = parsed.origin();
            if origin != shared.provider_origin && origin != shared.gatekeeper_origin {
                return (403, b"not-allowed".to_vec());
            }
            let started = now_ms();
            match shared
                .client
                .request("GET", url, None, &[], MAX_MEDIA)
                .await
            {
                Ok(r) if r.status == 200 => {
                    tracing::info!(
                        bytes = r.body.len(),
                        ms = now_ms().saturating_sub(started),
                        "proxied media"
                    );
                    (200, r.body)
                }
                Ok(r) => (r.status, Vec::new()),
                Err(_) => (502, b"bad-gateway".to_vec()),
            }
        }
        _ => (404, b"item-not-found".to_vec()),
    }
}
