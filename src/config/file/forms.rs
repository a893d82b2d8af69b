//! Values written either as a scalar or as a mapping (`public:`, `domain:`, `token:`): the
//! shapes, their deserializers and the schemas that describe them.

use marked_yaml::Spanned;
use schemars::JsonSchema;
use serde::Deserialize;

/// `public: true|false`, or the requests a route gives this service.
#[derive(Debug)]
pub enum PublicFile {
    On(bool),
    Route(Box<RouteFile>),
}

/// `public: { paths, host }`: the requests the load balancer sends to this service (both,
/// when both are given).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    /// Path patterns, case-sensitive, `*` and `?` as wildcards: `/users/*` does not match
    /// `/users` itself, so list both. The service gets the whole path.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub paths: Vec<Spanned<String>>,
    /// A host name (`Host` header), e.g. `admin.example.com` (not with `domain:`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub host: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for PublicFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PublicFile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`true`, `false` or `{ paths: [...], host: ... }`")
            }
            fn visit_bool<E>(self, v: bool) -> Result<PublicFile, E> {
                Ok(PublicFile::On(v))
            }
            // YAML scalars reach `deserialize_any` as text.
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PublicFile, E> {
                match v {
                    "true" => Ok(PublicFile::On(true)),
                    "false" => Ok(PublicFile::On(false)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<PublicFile, A::Error> {
                RouteFile::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(|r| PublicFile::Route(Box::new(r)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Schema only: what [`PublicFile`] accepts.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum PublicSchema {
    On(bool),
    Route(Box<RouteFile>),
}

/// `domain:`: `api.example.com`, or the mapping with the hosted zone and the wait. Read
/// inside a `Spanned`, which gives a bare name its place in the file.
#[derive(Debug)]
pub enum DomainFile {
    Name(String),
    Full(Box<DomainMapFile>),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainMapFile {
    /// The name clients use, e.g. `api.example.com`.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The public Route 53 hosted zone to write the records in (e.g. `example.com`).
    /// Default: the zone whose name is the longest suffix of `name`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub zone: Option<Spanned<String>>,
    /// How long `up` waits for ACM to issue the certificate, 1 to 240 minutes. Default 30.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1, max = 240))]
    pub wait_minutes: Option<Spanned<u32>>,
}

impl<'de> Deserialize<'de> for DomainFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DomainFile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a domain name like `api.example.com`, or `{ name, zone, wait_minutes }`",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DomainFile, E> {
                Ok(DomainFile::Name(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<DomainFile, A::Error> {
                DomainMapFile::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(|d| DomainFile::Full(Box::new(d)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Schema only: what [`DomainFile`] accepts.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum DomainSchema {
    Name(String),
    Full(Box<DomainMapFile>),
}

/// `token: true|false`, or the older spelling `token: { env: API_TOKEN }`, whose variable
/// name was never configurable (the services read `API_TOKEN`): any other name is refused
/// when validating.
#[derive(Debug)]
pub enum TokenFile {
    On(bool),
    Named(Spanned<String>),
}

impl<'de> Deserialize<'de> for TokenFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TokenFile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`true` or `false`")
            }
            fn visit_bool<E>(self, v: bool) -> Result<TokenFile, E> {
                Ok(TokenFile::On(v))
            }
            // YAML scalars reach `deserialize_any` as text.
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TokenFile, E> {
                match v {
                    "true" => Ok(TokenFile::On(true)),
                    "false" => Ok(TokenFile::On(false)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<TokenFile, A::Error> {
                let mut env = None;
                while let Some(key) = m.next_key::<String>()? {
                    if key != "env" || env.is_some() {
                        return Err(serde::de::Error::unknown_field(&key, &["env"]));
                    }
                    env = Some(m.next_value::<Spanned<String>>()?);
                }
                env.map(TokenFile::Named)
                    .ok_or_else(|| serde::de::Error::missing_field("env"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Schema only: what [`TokenFile`] accepts.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum TokenSchema {
    On(bool),
    /// Older spelling of `true`; `env` can only be `API_TOKEN`.
    Named {
        env: String,
    },
}

/// `deploy: rolling|blue-green|canary|linear`, or the mapping with the strategy's numbers.
/// Read inside a `Spanned`, which gives a bare name its place in the file.
#[derive(Debug)]
pub enum DeployFile {
    Name(String),
    Full(Box<DeployMapFile>),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployMapFile {
    /// `rolling` (the default), `blue-green`, `canary` or `linear`.
    #[schemars(
        with = "String",
        regex(pattern = r"^(rolling|blue-green|canary|linear)$")
    )]
    pub strategy: Spanned<String>,
    /// canary: the share of requests the new version gets first, 0.1 to 100 (default 5);
    /// linear: the share added at each step, 3 to 100 (default 10). In steps of 0.1.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0.1, max = 100))]
    pub percent: Option<Spanned<f64>>,
    /// canary: minutes before the rest of the requests move (default 10); linear: minutes
    /// between steps (default 6). 0 to 1440.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(max = 1440))]
    pub wait_minutes: Option<Spanned<u32>>,
    /// Minutes the old version keeps running once every request goes to the new one, for an
    /// instant rollback; 0 to 1440. Default 5.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(max = 1440))]
    pub bake_minutes: Option<Spanned<u32>>,
}

impl<'de> Deserialize<'de> for DeployFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DeployFile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "`rolling`, `blue-green`, `canary`, `linear`, or `{ strategy, percent, wait_minutes, bake_minutes }`",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DeployFile, E> {
                Ok(DeployFile::Name(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<DeployFile, A::Error> {
                DeployMapFile::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(|d| DeployFile::Full(Box::new(d)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Schema only: what [`DeployFile`] accepts.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum DeploySchema {
    Name(String),
    Full(Box<DeployMapFile>),
}
