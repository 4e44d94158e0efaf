//! Signing in through the homeserver's web page (`m.login.sso`, which is
//! how Synapse offers its OpenID Connect providers).
//!
//! The plugin listens on `127.0.0.1` (a random port, a random path), asks
//! the homeserver for its SSO address with that listener as the redirect,
//! and raises a [`PromptKind::SignInInBrowser`] prompt carrying the address.
//! The user signs in in their browser; the homeserver then sends the browser
//! to the listener with a one-time `loginToken`, which the plugin exchanges
//! for an access token (`m.login.token`). `Reject` on the prompt cancels.

use crate::account::DEVICE_NAME;
use crate::error::MatrixError;
use crate::flows::LoginFlows;
use crate::landing_page;
use koine_api::{Command, Event, EventSink, Prompt, PromptAnswer, PromptId, PromptKind};
use matrix_sdk::Client;
use matrix_sdk::ruma::api::client::session::login::v3::Response as LoginResponse;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long the user has to finish signing in.
const SIGN_IN_WAIT: Duration = Duration::from_secs(600);
/// How long one browser request to the listener may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head the listener reads.
const MAX_HEAD: usize = 16 * 1024;

/// What a sign-in needs from the session: where to raise the prompt, and
/// the command channel its answer comes on. Other commands that arrive
/// meanwhile are kept in `deferred` for the session to handle once online.
pub(crate) struct LoginUi<'a> {
    /// Where the prompt goes.
    pub events: &'a EventSink,
    /// The session's commands.
    pub commands: &'a mut mpsc::Receiver<Command>,
    /// Commands to handle once the session is up.
    pub deferred: &'a mut Vec<Command>,
}

/// The listener the browser comes back to.
struct Landing {
    listener: TcpListener,
    path: String,
    port: u16,
}

impl Landing {
    async fn open() -> Result<Self, MatrixError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| MatrixError::Network(format!("sign-in listener: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| MatrixError::Network(format!("sign-in listener: {e}")))?
            .port();
        let nonce: [u8; 16] = rand::random();
        let path = format!("/koine/sign-in/{}", hex::encode(nonce));
        Ok(Self {
            listener,
            path,
            port,
        })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.port, self.path)
    }

    /// Serves browser requests until one brings a login token.
    async fn login_token(&self) -> Result<String, MatrixError> {
        loop {
            let (stream, _) = self
                .listener
                .accept()
                .await
                .map_err(|e| MatrixError::Network(format!("sign-in listener: {e}")))?;
            match tokio::time::timeout(REQUEST_TIMEOUT, serve(stream, &self.path)).await {
                Ok(Ok(Some(token))) => return Ok(token),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::debug!("sign-in listener: {e}"),
                Err(_) => tracing::debug!("sign-in listener: a request timed out"),
            }
        }
    }
}

/// Answers one request; returns the login token when it carried one.
async fn serve(mut stream: TcpStream, path: &str) -> std::io::Result<Option<String>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
        if head.len() > MAX_HEAD {
            respond(&mut stream, "431 Request Header Fields Too Large", "").await?;
            return Ok(None);
        }
    }
    let token = login_token_of(&head, path);
    match &token {
        Some(_) => {
            let page = landing_page::signed_in();
            respond(&mut stream, "200 OK", &page).await?;
        }
        None => respond(&mut stream, "404 Not Found", "").await?,
    }
    Ok(token)
}

/// The `loginToken` of a `GET` request for `path`, if it is one.
pub(crate) fn login_token_of(head: &[u8], path: &str) -> Option<String> {
    let head = std::str::from_utf8(head).ok()?;
    let mut request_line = head.lines().next()?.split_whitespace();
    if request_line.next()? != "GET" {
        return None;
    }
    let target = request_line.next()?;
    let url = url::Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    if url.path() != path {
        return None;
    }
    url.query_pairs()
        .find(|(k, _)| k == "loginToken")
        .map(|(_, v)| v.into_owned())
        .filter(|t| !t.is_empty())
}

async fn respond(stream: &mut TcpStream, status: &str, html: &str) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{html}",
        html.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// Signs in through the browser: raises the prompt, waits for the browser
/// to come back with a login token, and exchanges it for a session.
pub(crate) async fn sign_in(
    client: &Client,
    flows: &LoginFlows,
    server: &str,
    ui: &mut LoginUi<'_>,
) -> Result<LoginResponse, MatrixError> {
    let landing = Landing::open().await?;
    // One provider: go straight to it; several or none: the server's page picks.
    let provider = match flows.sso.as_deref() {
        Some([only]) => Some(only.id.as_str()),
        _ => None,
    };
    let url = client
        .matrix_auth()
        .get_sso_login_url(&landing.url(), provider)
        .await?;
    let id = PromptId::new(format!("sign-in-{}", uuid::Uuid::new_v4().simple()));
    ui.events
        .emit(Event::PromptRaised(Prompt {
            id: id.clone(),
            kind: PromptKind::SignInInBrowser {
                server: server.to_owned(),
                url,
            },
        }))
        .await
        .map_err(|_| MatrixError::Network("engine stopped".into()))?;

    let token = landing.login_token();
    tokio::pin!(token);
    let deadline = tokio::time::sleep(SIGN_IN_WAIT);
    tokio::pin!(deadline);
    let token = loop {
        tokio::select! {
            token = &mut token => break token?,
            () = &mut deadline => return Err(MatrixError::SignInTimedOut),
            command = ui.commands.recv() => match command {
                None => return Err(MatrixError::Network("engine stopped".into())),
                Some(Command::AnswerPrompt { prompt, answer }) if prompt == id => {
                    if answer == PromptAnswer::Reject {
                        return Err(MatrixError::SignInCancelled);
                    }
                }
                Some(other) => ui.deferred.push(other),
            },
        }
    };
    client
        .matrix_auth()
        .login_token(&token)
        .initial_device_display_name(DEVICE_NAME)
        .send()
        .await
        .map_err(|e| {
            if crate::error::is_auth_error(&e) {
                MatrixError::AuthFailed
            } else {
                e.into()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::login_token_of;

    const PATH: &str = "/koine/sign-in/abc";

    #[test]
    fn takes_the_token_of_a_get_on_the_path_only() {
        let get = b"GET /koine/sign-in/abc?loginToken=syt_x%2By HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(login_token_of(get, PATH).as_deref(), Some("syt_x+y"));
        let other_path = b"GET /favicon.ico?loginToken=t HTTP/1.1\r\n\r\n";
        assert_eq!(login_token_of(other_path, PATH), None);
        let post = b"POST /koine/sign-in/abc?loginToken=t HTTP/1.1\r\n\r\n";
        assert_eq!(login_token_of(post, PATH), None);
        let empty = b"GET /koine/sign-in/abc?loginToken= HTTP/1.1\r\n\r\n";
        assert_eq!(login_token_of(empty, PATH), None);
        assert_eq!(login_token_of(b"\xff\xfe", PATH), None);
    }
}
