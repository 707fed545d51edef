//! Passive mode's REST calls: rows of `/system/script`, `/system/scheduler`, `/certificate` and
//! `/log`, and creating, changing and removing them, judged as [`Operation::Passive`] (a router
//! error is 208124; authentication, permissions and transport keep their codes).
//!
//! Rows are kept as the router sends them (string fields), since these menus are only compared
//! with what `passive install` would write. Their bodies are never shown to an observer: a script's
//! source holds the feed key.

use serde_json::{Map, Value};

use crate::classify::{Operation, Verdict};
use crate::error::{Code, Error, Result};
use crate::wire;

use super::client::RouterClient;
use super::rest::encode_query;

/// One row: its string fields.
pub type Fields = Map<String, Value>;

/// A field of a row as text (`""` when absent).
pub fn field<'a>(row: &'a Fields, key: &str) -> &'a str {
    row.get(key).and_then(Value::as_str).unwrap_or("")
}

fn rows_of(body: &[u8], what: &str) -> Result<Vec<Fields>> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Error::new(Code::NotJson, format!("{what}: {e}")))?;
    let Value::Array(items) = value else {
        return Err(Error::new(
            Code::WrongShape,
            format!("{what}: not a JSON array"),
        ));
    };
    items
        .into_iter()
        .map(|v| match v {
            Value::Object(m) => Ok(m),
            _ => Err(Error::new(
                Code::WrongShape,
                format!("{what}: a row is not an object"),
            )),
        })
        .collect()
}

fn id_of(row: &Fields, what: &str) -> Result<String> {
    let id = field(row, ".id");
    if wire::is_router_id(id) {
        Ok(id.to_owned())
    } else {
        Err(Error::new(
            Code::MissingField,
            format!("{what}: a row has no `.id` of the `*HEX` form"),
        ))
    }
}

impl RouterClient {
    /// `GET /rest<menu>`, optionally `?key=value`.
    pub async fn menu_rows(&self, menu: &str, filter: Option<(&str, &str)>) -> Result<Vec<Fields>> {
        let path = match filter {
            Some((k, v)) => format!("{menu}?{k}={}", encode_query(v)),
            None => menu.to_owned(),
        };
        let (_, body) = self
            .send(Operation::Passive, reqwest::Method::GET, &path, None)
            .await?;
        rows_of(&body, &format!("GET /rest{menu}"))
    }

    /// `PUT /rest<menu>` of a new row; the new row's `.id`.
    pub async fn menu_add(&self, menu: &str, fields: &Value) -> Result<String> {
        let (_, body) = self
            .send(Operation::Passive, reqwest::Method::PUT, menu, Some(fields))
            .await?;
        let what = format!("PUT /rest{menu}");
        let row: Value = serde_json::from_slice(&body)
            .map_err(|e| Error::new(Code::NotJson, format!("{what}: {e}")))?;
        match row {
            Value::Object(m) => id_of(&m, &what),
            _ => Err(Error::new(
                Code::WrongShape,
                format!("{what}: not a JSON object"),
            )),
        }
    }

    /// `PATCH /rest<menu>/<id>`.
    pub async fn menu_set(&self, menu: &str, id: &str, fields: &Value) -> Result<()> {
        let path = format!("{menu}/{}", checked_id(id)?);
        self.send(
            Operation::Passive,
            reqwest::Method::PATCH,
            &path,
            Some(fields),
        )
        .await?;
        Ok(())
    }

    /// `DELETE /rest<menu>/<id>`; a row already gone is no failure.
    pub async fn menu_remove(&self, menu: &str, id: &str) -> Result<bool> {
        let path = format!("{menu}/{}", checked_id(id)?);
        let (verdict, _) = self
            .send(Operation::Passive, reqwest::Method::DELETE, &path, None)
            .await?;
        Ok(verdict != Verdict::AlreadyGone)
    }

    /// `POST /rest<path>` of a command (`/certificate/import`); its reply.
    pub async fn menu_command(&self, path: &str, args: &Value) -> Result<Value> {
        let (_, body) = self
            .send(Operation::Passive, reqwest::Method::POST, path, Some(args))
            .await?;
        serde_json::from_slice(&body)
            .map_err(|e| Error::new(Code::NotJson, format!("POST /rest{path}: {e}")))
    }
}

fn checked_id(id: &str) -> Result<&str> {
    if wire::is_router_id(id) {
        Ok(id)
    } else {
        Err(Error::new(
            Code::InvalidValue,
            format!("`{id}` is not a RouterOS id"),
        ))
    }
}
