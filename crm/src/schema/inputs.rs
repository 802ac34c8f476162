//! CRM input types and their conversion into the services' parsed inputs.

use async_graphql::{Enum, ID, InputObject, Json, MaybeUndefined};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::objects::Address;
use crate::{
    service::{
        Patch,
        activities::{ActivityFilter, NewActivity},
        companies::{CompanyChanges, CompanyFilter, NewCompany},
        contacts::{self, ContactChanges, ContactFilter, ContactOrderField, NewContact},
        opportunities::{NewOpportunity, OpportunityChanges, OpportunityFilter},
        optional_text, pipelines, required_text,
    },
    types::{
        ActivityKind, CompanySize, ContactSource, ContactStatus, OpportunityStatus, StageKind,
    },
};
use platform::{
    domain::{Email, Money, PhoneE164},
    error::{AppError, AppResult},
    parse_id,
};

fn opt_id(id: Option<&ID>, field: &str) -> AppResult<Option<uuid::Uuid>> {
    id.map(|id| parse_id(id, field)).transpose()
}

fn patch_id(value: MaybeUndefined<ID>, field: &str) -> AppResult<Patch<uuid::Uuid>> {
    Patch::from_graphql(value).try_map(|id| parse_id(&id, field))
}

fn patch_text(value: MaybeUndefined<String>, field: &str, max: usize) -> AppResult<Patch<String>> {
    Ok(match Patch::from_graphql(value) {
        Patch::Set(text) => match optional_text(Some(&text), field, max)? {
            Some(text) => Patch::Set(text),
            None => Patch::Clear,
        },
        Patch::Clear => Patch::Clear,
        Patch::Keep => Patch::Keep,
    })
}

#[derive(InputObject)]
pub struct MoneyInput {
    /// Major units, as a decimal string (`"1234.50"`) or number.
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
}

impl MoneyInput {
    pub fn parse(&self, field: &str) -> AppResult<Money> {
        Money::parse(self.amount, &self.currency, field)
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

#[derive(InputObject, Default)]
pub struct ContactFilterInput {
    pub status: Option<Vec<ContactStatus>>,
    pub source: Option<Vec<ContactSource>>,
    pub owner_id: Option<ID>,
    /// Only the caller's contacts.
    pub mine: Option<bool>,
    pub company_id: Option<ID>,
    pub tag: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    /// Part of the name, email or phone.
    pub search: Option<String>,
}

impl ContactFilterInput {
    pub fn parse(self, caller: uuid::Uuid) -> AppResult<ContactFilter> {
        let owner_id = match (self.mine, opt_id(self.owner_id.as_ref(), "ownerId")?) {
            (Some(true), Some(other)) if other != caller => {
                return Err(AppError::bad_input(
                    "mine",
                    "give mine or ownerId, not both",
                ));
            }
            (Some(true), _) => Some(caller),
            (_, owner) => owner,
        };
        Ok(ContactFilter {
            statuses: self.status.unwrap_or_default(),
            sources: self.source.unwrap_or_default(),
            owner_id,
            company_id: opt_id(self.company_id.as_ref(), "companyId")?,
            tag: self.tag,
            created_after: self.created_after,
            created_before: self.created_before,
            updated_after: self.updated_after,
            updated_before: self.updated_before,
            search: self.search,
            inactive_since: None,
        })
    }
}

#[derive(InputObject)]
pub struct ContactOrder {
    #[graphql(default_with = "ContactOrderField::CreatedAt")]
    pub field: ContactOrderField,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(InputObject)]
pub struct CreateContactInput {
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: Option<String>,
    /// With its country code; stored as E.164.
    pub phone: Option<String>,
    pub company_id: Option<ID>,
    /// Default: the caller.
    pub owner_id: Option<ID>,
    #[graphql(default_with = "ContactSource::Other")]
    pub source: ContactSource,
    #[graphql(default_with = "ContactStatus::New")]
    pub status: ContactStatus,
    #[graphql(default)]
    pub tags: Vec<String>,
    /// A JSON object of tenant-defined keys.
    pub custom_fields: Option<Json<serde_json::Value>>,
}

impl CreateContactInput {
    pub fn parse(self) -> AppResult<NewContact> {
        Ok(NewContact {
            first_name: contacts::parse_first_name(&self.first_name)?,
            last_name: contacts::parse_last_name(self.last_name.as_deref())?,
            email: self
                .email
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .map(|e| Email::parse(e, "email"))
                .transpose()?,
            phone: self
                .phone
                .as_deref()
                .filter(|p| !p.trim().is_empty())
                .map(|p| PhoneE164::parse(p, "phone"))
                .transpose()?,
            company_id: opt_id(self.company_id.as_ref(), "companyId")?,
            owner_id: opt_id(self.owner_id.as_ref(), "ownerId")?,
            source: self.source,
            status: self.status,
            tags: contacts::parse_tags(self.tags)?,
            custom_fields: match self.custom_fields {
                Some(Json(value)) => contacts::parse_custom_fields(value)?,
                None => Default::default(),
            },
        })
    }
}

/// Fields left out stay as they are; `null` clears an optional field.
#[derive(InputObject, Default)]
pub struct UpdateContactInput {
    pub first_name: Option<String>,
    pub last_name: MaybeUndefined<String>,
    pub email: MaybeUndefined<String>,
    pub phone: MaybeUndefined<String>,
    pub company_id: MaybeUndefined<ID>,
    pub owner_id: MaybeUndefined<ID>,
    pub source: Option<ContactSource>,
    pub status: Option<ContactStatus>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// Replaces the custom fields.
    pub custom_fields: Option<Json<serde_json::Value>>,
}

impl UpdateContactInput {
    pub fn parse(self) -> AppResult<ContactChanges> {
        Ok(ContactChanges {
            first_name: self
                .first_name
                .as_deref()
                .map(contacts::parse_first_name)
                .transpose()?,
            last_name: patch_text(self.last_name, "lastName", 200)?,
            email: patch_text(self.email, "email", 254)?.try_map(|e| Email::parse(&e, "email"))?,
            phone: patch_text(self.phone, "phone", 40)?
                .try_map(|p| PhoneE164::parse(&p, "phone"))?,
            company_id: patch_id(self.company_id, "companyId")?,
            owner_id: patch_id(self.owner_id, "ownerId")?,
            source: self.source,
            status: self.status,
            tags: self.tags.map(contacts::parse_tags).transpose()?,
            custom_fields: self
                .custom_fields
                .map(|Json(v)| contacts::parse_custom_fields(v))
                .transpose()?,
        })
    }
}

#[derive(InputObject, Clone)]
pub struct AddressInput {
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

impl AddressInput {
    fn parse(self) -> AppResult<serde_json::Value> {
        let country = self
            .country
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty());
        if let Some(code) = &country
            && (code.len() != 2 || !code.chars().all(|c| c.is_ascii_alphabetic()))
        {
            return Err(AppError::bad_input(
                "address.country",
                "a country is a two-letter ISO 3166 code",
            ));
        }
        let address = Address {
            street: optional_text(self.street.as_deref(), "address.street", 200)?,
            city: optional_text(self.city.as_deref(), "address.city", 100)?,
            region: optional_text(self.region.as_deref(), "address.region", 100)?,
            postal_code: optional_text(self.postal_code.as_deref(), "address.postalCode", 20)?,
            country,
        };
        serde_json::to_value(address).map_err(|e| AppError::internal(e.to_string()))
    }
}

fn parse_domain(raw: &str) -> AppResult<String> {
    let domain = raw.trim().trim_end_matches('/').to_lowercase();
    let domain = domain
        .strip_prefix("https://")
        .or_else(|| domain.strip_prefix("http://"))
        .unwrap_or(&domain)
        .to_owned();
    if domain.is_empty()
        || domain.len() > 253
        || !domain.contains('.')
        || domain.contains(char::is_whitespace)
    {
        return Err(AppError::bad_input(
            "domain",
            format!("{raw:?} is not a domain name"),
        ));
    }
    Ok(domain)
}

#[derive(InputObject)]
pub struct CreateCompanyInput {
    pub name: String,
    /// Web domain (`acme.com`).
    pub domain: Option<String>,
    pub industry: Option<String>,
    pub size: Option<CompanySize>,
    pub address: Option<AddressInput>,
    /// Default: the caller.
    pub owner_id: Option<ID>,
}

impl CreateCompanyInput {
    pub fn parse(self) -> AppResult<NewCompany> {
        Ok(NewCompany {
            name: required_text(&self.name, "name", 200)?,
            domain: self
                .domain
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .map(parse_domain)
                .transpose()?,
            industry: optional_text(self.industry.as_deref(), "industry", 100)?,
            size: self.size,
            address: self.address.map(AddressInput::parse).transpose()?,
            owner_id: opt_id(self.owner_id.as_ref(), "ownerId")?,
        })
    }
}

#[derive(InputObject, Default)]
pub struct UpdateCompanyInput {
    pub name: Option<String>,
    pub domain: MaybeUndefined<String>,
    pub industry: MaybeUndefined<String>,
    pub size: MaybeUndefined<CompanySize>,
    pub address: MaybeUndefined<AddressInput>,
    pub owner_id: MaybeUndefined<ID>,
}

impl UpdateCompanyInput {
    pub fn parse(self) -> AppResult<CompanyChanges> {
        Ok(CompanyChanges {
            name: self
                .name
                .as_deref()
                .map(|n| required_text(n, "name", 200))
                .transpose()?,
            domain: patch_text(self.domain, "domain", 253)?.try_map(|d| parse_domain(&d))?,
            industry: patch_text(self.industry, "industry", 100)?,
            size: Patch::from_graphql(self.size),
            address: Patch::from_graphql(self.address).try_map(AddressInput::parse)?,
            owner_id: patch_id(self.owner_id, "ownerId")?,
        })
    }
}

#[derive(InputObject, Default)]
pub struct CompanyFilterInput {
    /// Part of the name.
    pub search: Option<String>,
    pub owner_id: Option<ID>,
    pub industry: Option<String>,
}

impl CompanyFilterInput {
    pub fn parse(self) -> AppResult<CompanyFilter> {
        Ok(CompanyFilter {
            search: self.search,
            owner_id: opt_id(self.owner_id.as_ref(), "ownerId")?,
            industry: self.industry,
        })
    }
}

#[derive(InputObject, Clone)]
pub struct StageInput {
    pub name: String,
    /// Win probability, 0-100.
    pub probability: i32,
    #[graphql(default_with = "StageKind::Open")]
    pub kind: StageKind,
}

impl StageInput {
    pub fn parse(self, field: &str) -> AppResult<pipelines::NewStage> {
        Ok(pipelines::NewStage {
            name: pipelines::parse_name(&self.name, &format!("{field}.name"))?,
            probability: pipelines::parse_probability(
                self.probability,
                &format!("{field}.probability"),
            )?,
            kind: self.kind,
        })
    }
}

#[derive(InputObject)]
pub struct UpdateStageInput {
    pub name: Option<String>,
    pub probability: Option<i32>,
    pub kind: Option<StageKind>,
}

impl UpdateStageInput {
    pub fn parse(self) -> AppResult<pipelines::StageChanges> {
        Ok(pipelines::StageChanges {
            name: self
                .name
                .as_deref()
                .map(|n| pipelines::parse_name(n, "name"))
                .transpose()?,
            probability: self
                .probability
                .map(|p| pipelines::parse_probability(p, "probability"))
                .transpose()?,
            kind: self.kind,
        })
    }
}

#[derive(InputObject)]
pub struct CreateOpportunityInput {
    pub title: String,
    /// Default: the default pipeline (ignored when `stageId` is given, which must belong to it).
    pub pipeline_id: Option<ID>,
    /// Default: the pipeline's first open stage.
    pub stage_id: Option<ID>,
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    /// Default: the caller.
    pub owner_id: Option<ID>,
    pub value: MoneyInput,
    pub expected_close_date: Option<NaiveDate>,
}

impl CreateOpportunityInput {
    pub fn parse(self) -> AppResult<NewOpportunity> {
        Ok(NewOpportunity {
            title: required_text(&self.title, "title", 200)?,
            pipeline_id: opt_id(self.pipeline_id.as_ref(), "pipelineId")?,
            stage_id: opt_id(self.stage_id.as_ref(), "stageId")?,
            contact_id: opt_id(self.contact_id.as_ref(), "contactId")?,
            company_id: opt_id(self.company_id.as_ref(), "companyId")?,
            owner_id: opt_id(self.owner_id.as_ref(), "ownerId")?,
            value: self.value.parse("value")?,
            expected_close_date: self.expected_close_date,
        })
    }
}

#[derive(InputObject, Default)]
pub struct UpdateOpportunityInput {
    pub title: Option<String>,
    pub contact_id: MaybeUndefined<ID>,
    pub company_id: MaybeUndefined<ID>,
    pub owner_id: MaybeUndefined<ID>,
    pub value: Option<MoneyInput>,
    pub expected_close_date: MaybeUndefined<NaiveDate>,
}

impl UpdateOpportunityInput {
    pub fn parse(self) -> AppResult<OpportunityChanges> {
        Ok(OpportunityChanges {
            title: self
                .title
                .as_deref()
                .map(|t| required_text(t, "title", 200))
                .transpose()?,
            contact_id: patch_id(self.contact_id, "contactId")?,
            company_id: patch_id(self.company_id, "companyId")?,
            owner_id: patch_id(self.owner_id, "ownerId")?,
            value: self.value.map(|v| v.parse("value")).transpose()?,
            expected_close_date: Patch::from_graphql(self.expected_close_date),
        })
    }
}

#[derive(InputObject, Default)]
pub struct OpportunityFilterInput {
    pub pipeline_id: Option<ID>,
    pub stage_id: Option<ID>,
    pub status: Option<Vec<OpportunityStatus>>,
    pub owner_id: Option<ID>,
    /// Only the caller's opportunities.
    pub mine: Option<bool>,
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    /// Part of the title.
    pub search: Option<String>,
}

impl OpportunityFilterInput {
    pub fn parse(self, caller: uuid::Uuid) -> AppResult<OpportunityFilter> {
        let owner_id = match self.mine {
            Some(true) => Some(caller),
            _ => opt_id(self.owner_id.as_ref(), "ownerId")?,
        };
        Ok(OpportunityFilter {
            pipeline_id: opt_id(self.pipeline_id.as_ref(), "pipelineId")?,
            stage_id: opt_id(self.stage_id.as_ref(), "stageId")?,
            statuses: self.status.unwrap_or_default(),
            owner_id,
            contact_id: opt_id(self.contact_id.as_ref(), "contactId")?,
            company_id: opt_id(self.company_id.as_ref(), "companyId")?,
            search: self.search,
        })
    }
}

#[derive(InputObject)]
pub struct LogActivityInput {
    pub kind: ActivityKind,
    pub subject: String,
    pub body: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub contact_id: Option<ID>,
    pub opportunity_id: Option<ID>,
}

impl LogActivityInput {
    pub fn parse(self) -> AppResult<NewActivity> {
        Ok(NewActivity {
            kind: self.kind,
            subject: required_text(&self.subject, "subject", 200)?,
            body: optional_text(self.body.as_deref(), "body", 20_000)?,
            due_at: self.due_at,
            contact_id: opt_id(self.contact_id.as_ref(), "contactId")?,
            opportunity_id: opt_id(self.opportunity_id.as_ref(), "opportunityId")?,
        })
    }
}

#[derive(InputObject, Default)]
pub struct ActivityFilterInput {
    pub kind: Option<Vec<ActivityKind>>,
    /// Open tasks past their due time (or, with false, everything else).
    pub overdue: Option<bool>,
    pub due_after: Option<DateTime<Utc>>,
    pub due_before: Option<DateTime<Utc>>,
    pub contact_id: Option<ID>,
    pub opportunity_id: Option<ID>,
}

impl ActivityFilterInput {
    pub fn parse(self) -> AppResult<ActivityFilter> {
        Ok(ActivityFilter {
            kinds: self.kind.unwrap_or_default(),
            overdue: self.overdue,
            due_after: self.due_after,
            due_before: self.due_before,
            contact_id: opt_id(self.contact_id.as_ref(), "contactId")?,
            opportunity_id: opt_id(self.opportunity_id.as_ref(), "opportunityId")?,
        })
    }
}
