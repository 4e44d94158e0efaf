//! An OpenID Connect provider on loopback (oidc-provider-mock from the
//! Synapse venv, see `scripts/deps.d/matrix-oidc.sh`), the Synapse settings
//! that make it the server's single sign-on, and a small browser that
//! follows a sign-in page by page (redirects, cookies, the provider's form).

use anyhow::{Context, bail};
use std::collections::{BTreeMap, HashMap};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// The id Synapse gives the provider (`oidc-` + its `idp_id`).
pub const PROVIDER_ID: &str = "oidc-mock";

/// A running provider, killed when dropped.
pub struct Provider {
    port: u16,
    _child: Child,
    _dir: tempfile::TempDir,
}

impl Provider {
    /// Starts the provider on a free port of 127.0.0.1 and waits until it
    /// answers its discovery document.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = super::free_port()?;
        let log = std::fs::File::create(dir.path().join("provider.log"))?;
        let child = Command::new(super::python())
            .args(["-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("starting oidc_provider_mock (source scripts/deps.d/matrix-oidc.sh)")?;
        let mut provider = Self {
            port,
            _child: child,
            _dir: dir,
        };
        let url = format!("{}/.well-known/openid-configuration", provider.issuer());
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if let Some(status) = provider._child.try_wait()? {
                let log = std::fs::read_to_string(provider._dir.path().join("provider.log"))
                    .unwrap_or_default();
                bail!("the OpenID provider exited with {status}: {log}");
            }
            if let Ok(r) = http.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(provider);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the OpenID provider did not become ready")
    }

    /// Its issuer URL.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Synapse settings: SSO through `provider`, new users named after the
/// provider's subject, and the loopback redirect trusted (no confirmation
/// page between the provider and the client).
pub fn synapse_config(port: u16, provider: &Provider) -> String {
    format!(
        r#"public_baseurl: "http://127.0.0.1:{port}/"
oidc_providers:
  - idp_id: mock
    idp_name: "Test provider"
    issuer: "{issuer}"
    client_id: "synapse"
    client_secret: "synapse-secret"
    scopes: ["openid"]
    skip_verification: true
    user_mapping_provider:
      config:
        localpart_template: "{{{{ user.sub }}}}"
sso:
  client_whitelist: ["http://127.0.0.1:"]
"#,
        issuer = provider.issuer(),
    )
}

/// What the browser ended on.
pub struct Landed {
    /// The last URL.
    pub url: url::Url,
    /// Its status.
    pub status: reqwest::StatusCode,
    /// Its body.
    pub body: String,
}

/// A browser for loopback pages: follows redirects itself, keeps cookies
/// per host and port, and answers the provider's sign-in form as `subject`.
pub struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, BTreeMap<String, String>>,
}

impl Browser {
    /// A browser with no cookies.
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            cookies: HashMap::new(),
        })
    }

    /// Opens `start` and signs in at the provider as `subject`; returns the
    /// first page that is neither a redirect nor the provider's form.
    pub async fn sign_in(&mut self, start: &str, subject: &str) -> anyhow::Result<Landed> {
        let mut url = url::Url::parse(start)?;
        let mut form: Option<Vec<(&str, &str)>> = None;
        for _ in 0..20 {
            let host = url.host_str().unwrap_or_default();
            if host != "127.0.0.1" && host != "localhost" {
                bail!("the sign-in left loopback: {url}");
            }
            let key = format!("{host}:{}", url.port_or_known_default().unwrap_or(0));
            let mut request = match form.take() {
                Some(fields) => self
                    .http
                    .post(url.clone())
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(
                        url::form_urlencoded::Serializer::new(String::new())
                            .extend_pairs(fields)
                            .finish(),
                    ),
                None => self.http.get(url.clone()),
            };
            if let Some(jar) = self.cookies.get(&key) {
                let header = jar
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                request = request.header(reqwest::header::COOKIE, header);
            }
            let response = request.send().await?;
            for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
                let pair = value.to_str()?.split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    self.cookies
                        .entry(key.clone())
                        .or_default()
                        .insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .context("redirect without Location")?
                    .to_str()?;
                url = url.join(location)?;
                continue;
            }
            let body = response.text().await?;
            if url.path() == "/oauth2/authorize" && status.is_success() {
                // The provider's form: sign in as `subject` (posted to the same URL).
                form = Some(vec![("sub", subject)]);
                continue;
            }
            return Ok(Landed { url, status, body });
        }
        bail!("too many pages in the sign-in")
    }
}
