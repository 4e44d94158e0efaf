//! What a homeserver offers for signing in (`GET /login`).

use crate::account::AccountSettings;
use crate::error::MatrixError;
use matrix_sdk::Client;
use matrix_sdk::ruma::api::client::session::get_login_types::v3::LoginType;

/// An identity provider the homeserver offers for single sign-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    /// The id to ask for it by (`/login/sso/redirect/{id}`).
    pub id: String,
    /// Its name, for showing.
    pub name: String,
}

/// The ways a homeserver lets a client sign in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginFlows {
    /// `m.login.password`.
    pub password: bool,
    /// `m.login.sso`, with its identity providers (empty when the server
    /// lists none: its own page then picks).
    pub sso: Option<Vec<IdentityProvider>>,
    /// `m.login.token` (how an SSO sign-in is completed).
    pub token: bool,
    /// Any other login type, by name.
    pub other: Vec<String>,
}

impl LoginFlows {
    /// Whether a sign-in through the browser can be completed here.
    pub fn browser_sign_in(&self) -> bool {
        self.sso.is_some() && self.token
    }
}

/// Asks the account's homeserver what it offers for signing in. No store
/// is opened and nothing is kept.
pub async fn login_flows(account: &AccountSettings) -> Result<LoginFlows, MatrixError> {
    let builder = Client::builder();
    let builder = match &account.homeserver {
        Some(url) => builder.homeserver_url(url.as_str()),
        None => builder.server_name(account.user_id.server_name()),
    };
    let client = builder.build().await?;
    flows_of(&client).await
}

pub(crate) async fn flows_of(client: &Client) -> Result<LoginFlows, MatrixError> {
    let response = client.matrix_auth().get_login_types().await?;
    let mut flows = LoginFlows::default();
    for flow in response.flows {
        match flow {
            LoginType::Password(_) => flows.password = true,
            LoginType::Token(_) => flows.token = true,
            LoginType::Sso(sso) => {
                flows.sso = Some(
                    sso.identity_providers
                        .into_iter()
                        .map(|p| IdentityProvider {
                            id: p.id,
                            name: p.name,
                        })
                        .collect(),
                );
            }
            other => flows.other.push(other.login_type().to_owned()),
        }
    }
    Ok(flows)
}
