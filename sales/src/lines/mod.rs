//! A sales document's lines: read from input with what they sell copied (name, price, tax
//! rates, a bundle's components), priced by the money engine, and stored. Quotes, invoices
//! and credit notes share them, and their GraphQL shape (`schema`).

pub mod loader;
pub mod schema;

use std::collections::HashMap;

use entity::tenant::{document_line, product, sales_setting, tax_rate};
use platform::{
    domain::Patch,
    error::{AppError, AppResult},
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    catalog,
    shared::{stored_decimal, stored_discount},
    tax_rates,
    totals::{self, Discount, Line, LinePart, TaxSnapshot, Totals, TotalsError},
    types::{ProductKind, RoundingMode, TaxRounding},
};

/// The most lines a document has.
pub const MAX_LINES: usize = 200;

/// A line as the caller gives it.
pub struct NewLine {
    pub product_id: Option<Uuid>,
    /// Default: the product's name.
    pub description: Option<String>,
    /// Default: the product's unit.
    pub unit: Option<String>,
    pub quantity: Decimal,
    /// Default: the product's list price (when in the document's currency).
    pub unit_price: Option<Decimal>,
    pub discount: Option<Discount>,
    /// Keep: the product's rate, else the tenant's default; clear: no tax.
    pub tax_rate_id: Patch<Uuid>,
}

/// One part of a stored line: its tax rate, its weight, its amount once priced, and for a
/// bundle's line the component it stands for.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredPart {
    pub tax: TaxSnapshot,
    pub weight: i64,
    /// Minor units: the line's amount after the document's discount, this part's share.
    #[serde(default)]
    pub amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentCopy>,
}

/// A bundle's component as the line copied it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentCopy {
    pub product_id: Uuid,
    pub sku: String,
    pub name: String,
    pub quantity: Decimal,
}

/// A line ready to price and store.
pub struct LineDraft {
    pub product_id: Option<Uuid>,
    pub sku: Option<String>,
    pub description: String,
    pub unit: Option<String>,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount: Option<Discount>,
    pub parts: Vec<StoredPart>,
}

/// How a document is priced: its currency's exponent and the rules it was written under.
#[derive(Clone, Copy)]
pub struct Pricing {
    pub exponent: u32,
    pub prices_include_tax: bool,
    pub rounding: RoundingMode,
    pub tax_rounding: TaxRounding,
}

impl Pricing {
    /// How a stored document is priced.
    pub fn stored(
        currency: &str,
        prices_include_tax: bool,
        rounding: &str,
        tax_rounding: &str,
    ) -> AppResult<Self> {
        Ok(Self {
            exponent: crate::shared::stored_exponent(currency)?,
            prices_include_tax,
            rounding: RoundingMode::from_stored(rounding)?,
            tax_rounding: TaxRounding::from_stored(tax_rounding)?,
        })
    }
}

/// A document's tax groups as stored.
pub fn tax_groups_json(totals: &Totals) -> AppResult<serde_json::Value> {
    serde_json::to_value(&totals.groups)
        .map_err(|e| AppError::internal(format!("tax groups did not serialize: {e}")))
}

/// Reads the caller's lines: each product looked up and copied, each tax rate resolved.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    settings: &sales_setting::Model,
    currency: &str,
    exponent: u32,
    lines: Vec<NewLine>,
) -> AppResult<Vec<LineDraft>> {
    if lines.len() > MAX_LINES {
        return Err(AppError::bad_input(
            "lines",
            format!("a document has at most {MAX_LINES} lines"),
        ));
    }
    // Every rate of the tenant (a handful) and every product the lines name, in two
    // statements whatever the lines.
    let rates: HashMap<Uuid, tax_rate::Model> = tax_rates::list(conn, true)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let rate = |id: Uuid| rates.get(&id).ok_or(AppError::NotFound("tax rate"));
    let product_ids: Vec<Uuid> = lines.iter().filter_map(|l| l.product_id).collect();
    let products: HashMap<Uuid, product::Model> = if product_ids.is_empty() {
        HashMap::new()
    } else {
        product::Entity::find()
            .filter(product::Column::Id.is_in(product_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect()
    };
    let default_tax = match settings.default_tax_rate_id {
        Some(id) => Some(tax_rates::snapshot(rate(id)?)?),
        None => None,
    };
    let mut drafts = Vec::with_capacity(lines.len());
    for (index, line) in lines.into_iter().enumerate() {
        let field = |name: &str| format!("lines[{index}].{name}");
        let chosen_tax = match line.tax_rate_id {
            Patch::Set(id) => {
                let rate = rate(id)?;
                if !rate.active {
                    return Err(AppError::bad_input(
                        field("taxRateId"),
                        format!("tax rate {} is archived", rate.name),
                    ));
                }
                Some(Some(tax_rates::snapshot(rate)?))
            }
            Patch::Clear => Some(None),
            Patch::Keep => None,
        };
        let Some(product_id) = line.product_id else {
            let description = line.description.ok_or_else(|| {
                AppError::bad_input(
                    field("description"),
                    "a line without a product needs a description",
                )
            })?;
            let unit_price = line.unit_price.ok_or_else(|| {
                AppError::bad_input(
                    field("unitPrice"),
                    "a line without a product needs a unit price",
                )
            })?;
            let tax = chosen_tax
                .unwrap_or_else(|| default_tax.clone())
                .unwrap_or_else(TaxSnapshot::none);
            drafts.push(LineDraft {
                product_id: None,
                sku: None,
                description,
                unit: line.unit,
                quantity: line.quantity,
                unit_price,
                discount: line.discount,
                parts: vec![whole(tax)],
            });
            continue;
        };
        let product = products
            .get(&product_id)
            .ok_or(AppError::NotFound("product"))?;
        if !product.active {
            return Err(AppError::bad_input(
                field("productId"),
                format!("{} is archived", product.name),
            ));
        }
        let unit_price = match line.unit_price {
            Some(price) => price,
            None if product.currency == currency => catalog::unit_price(product)?,
            None => {
                return Err(AppError::bad_input(
                    field("unitPrice"),
                    format!(
                        "{} is priced in {}; give a unit price in {currency}",
                        product.name, product.currency
                    ),
                ));
            }
        };
        let parts = if product.kind == ProductKind::Bundle.as_str() {
            if chosen_tax.is_some() {
                return Err(AppError::bad_input(
                    field("taxRateId"),
                    "a bundle's components keep their own tax rates",
                ));
            }
            bundle_parts(conn, product, exponent, default_tax.as_ref()).await?
        } else {
            let tax = match chosen_tax {
                Some(chosen) => chosen,
                None => match product.tax_rate_id {
                    Some(id) => Some(tax_rates::snapshot(rate(id)?)?),
                    None => default_tax.clone(),
                },
            };
            vec![whole(tax.unwrap_or_else(TaxSnapshot::none))]
        };
        drafts.push(LineDraft {
            product_id: Some(product.id),
            sku: Some(product.sku.clone()),
            description: line.description.unwrap_or_else(|| product.name.clone()),
            unit: line.unit.or_else(|| product.unit.clone()),
            quantity: line.quantity,
            unit_price,
            discount: line.discount,
            parts,
        });
    }
    Ok(drafts)
}

fn whole(tax: TaxSnapshot) -> StoredPart {
    StoredPart {
        tax,
        weight: 1,
        amount: 0,
        component: None,
    }
}

/// A bundle's parts: each component with its own rate, weighted by its list price.
async fn bundle_parts<C: ConnectionTrait>(
    conn: &C,
    bundle: &product::Model,
    exponent: u32,
    default_tax: Option<&TaxSnapshot>,
) -> AppResult<Vec<StoredPart>> {
    let mut parts = Vec::new();
    for component in catalog::components(conn, bundle.id).await? {
        let item = catalog::find(conn, component.component_id).await?;
        let quantity = stored_decimal(&component.quantity)?;
        let list_price = catalog::unit_price(&item)?
            .checked_mul(quantity)
            .and_then(|p| p.checked_mul(totals::minor_per_major(exponent)))
            .ok_or_else(|| AppError::bad_input("lines", "a bundle's list price is too large"))?;
        let weight = RoundingMode::HalfAwayFromZero
            .to_minor(list_price)
            .map_err(|_| AppError::bad_input("lines", "a bundle's list price is too large"))?;
        let tax = match item.tax_rate_id {
            Some(id) => tax_rates::snapshot(&tax_rates::find(conn, id).await?)?,
            None => default_tax.cloned().unwrap_or_else(TaxSnapshot::none),
        };
        parts.push(StoredPart {
            tax,
            weight,
            amount: 0,
            component: Some(ComponentCopy {
                product_id: item.id,
                sku: item.sku,
                name: item.name,
                quantity,
            }),
        });
    }
    Ok(parts)
}

/// Prices the lines with the money engine; its refusals name the input to change.
pub fn price(
    pricing: Pricing,
    drafts: &mut [LineDraft],
    discount: Option<Discount>,
) -> AppResult<Totals> {
    let document = totals::Document {
        exponent: pricing.exponent,
        prices_include_tax: pricing.prices_include_tax,
        rounding: pricing.rounding,
        tax_rounding: pricing.tax_rounding,
        lines: drafts
            .iter()
            .map(|d| Line {
                quantity: d.quantity,
                unit_price: d.unit_price,
                discount: d.discount,
                parts: d
                    .parts
                    .iter()
                    .map(|p| LinePart {
                        tax: p.tax.clone(),
                        weight: p.weight,
                    })
                    .collect(),
            })
            .collect(),
        discount,
    };
    let totals = totals::compute(&document).map_err(|e| match e {
        TotalsError::TooLarge => AppError::bad_input("lines", "the amounts are too large"),
        TotalsError::LineDiscountTooLarge(i) => AppError::bad_input(
            format!("lines[{i}].discount"),
            "the discount is more than the line",
        ),
        TotalsError::DocumentDiscountTooLarge => {
            AppError::bad_input("discount", "the discount is more than the lines")
        }
        TotalsError::Invalid(i) => {
            AppError::bad_input(format!("lines[{i}]"), "the line's figures are invalid")
        }
    })?;
    for (draft, figures) in drafts.iter_mut().zip(&totals.lines) {
        for (part, amount) in draft.parts.iter_mut().zip(&figures.parts) {
            part.amount = *amount;
        }
    }
    Ok(totals)
}

/// The document lines belong to.
#[derive(Clone, Copy)]
pub enum Owner {
    Quote(Uuid),
    Invoice(Uuid),
    CreditNote(Uuid),
}

impl Owner {
    fn column(self) -> (document_line::Column, Uuid) {
        match self {
            Self::Quote(id) => (document_line::Column::QuoteId, id),
            Self::Invoice(id) => (document_line::Column::InvoiceId, id),
            Self::CreditNote(id) => (document_line::Column::CreditNoteId, id),
        }
    }
}

/// Replaces the document's lines with `drafts`, priced by `totals`.
pub async fn store<C: ConnectionTrait>(
    conn: &C,
    owner: Owner,
    drafts: Vec<LineDraft>,
    totals: &Totals,
) -> AppResult<()> {
    let (column, id) = owner.column();
    document_line::Entity::delete_many()
        .filter(column.eq(id))
        .exec(conn)
        .await?;
    let mut rows = Vec::with_capacity(drafts.len());
    for (position, (draft, figures)) in drafts.into_iter().zip(&totals.lines).enumerate() {
        let parts = serde_json::to_value(&draft.parts)
            .map_err(|e| AppError::internal(format!("a line's parts did not serialize: {e}")))?;
        rows.push(document_line::ActiveModel {
            id: Set(Uuid::now_v7()),
            quote_id: Set(matches!(owner, Owner::Quote(_)).then_some(id)),
            invoice_id: Set(matches!(owner, Owner::Invoice(_)).then_some(id)),
            credit_note_id: Set(matches!(owner, Owner::CreditNote(_)).then_some(id)),
            position: Set(position as i32),
            product_id: Set(draft.product_id),
            sku: Set(draft.sku),
            description: Set(draft.description),
            unit: Set(draft.unit),
            quantity: Set(draft.quantity.normalize().to_string()),
            unit_price: Set(draft.unit_price.normalize().to_string()),
            discount: Set(crate::shared::discount_json(draft.discount)),
            parts: Set(parts),
            net_minor: Set(figures.net),
            document_discount_minor: Set(figures.document_discount),
        });
    }
    // One statement for all the lines.
    if !rows.is_empty() {
        document_line::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(())
}

/// The lines a document will have: `new_lines` read from input when given (`true`: they
/// replace the stored ones), else `from`'s stored lines to price again.
pub async fn given_or_stored<C: ConnectionTrait>(
    conn: &C,
    from: Owner,
    currency: &str,
    exponent: u32,
    new_lines: Option<Vec<NewLine>>,
) -> AppResult<(Vec<LineDraft>, bool)> {
    Ok(match new_lines {
        Some(new_lines) => {
            let settings = crate::settings::get(conn).await?;
            (
                resolve(conn, &settings, currency, exponent, new_lines).await?,
                true,
            )
        }
        None => (drafts_of(&of(conn, from).await?)?, false),
    })
}

/// A document's stored lines, in order.
pub async fn of<C: ConnectionTrait>(
    conn: &C,
    owner: Owner,
) -> AppResult<Vec<document_line::Model>> {
    let (column, id) = owner.column();
    Ok(document_line::Entity::find()
        .filter(column.eq(id))
        .order_by_asc(document_line::Column::Position)
        .all(conn)
        .await?)
}

/// Stored lines read back as drafts: to price again, or to copy into another document.
pub fn drafts_of(lines: &[document_line::Model]) -> AppResult<Vec<LineDraft>> {
    lines
        .iter()
        .map(|line| {
            Ok(LineDraft {
                product_id: line.product_id,
                sku: line.sku.clone(),
                description: line.description.clone(),
                unit: line.unit.clone(),
                quantity: stored_decimal(&line.quantity)?,
                unit_price: stored_decimal(&line.unit_price)?,
                discount: stored_discount(line.discount.as_ref())?,
                parts: parts_of(line)?,
            })
        })
        .collect()
}

pub fn parts_of(line: &document_line::Model) -> AppResult<Vec<StoredPart>> {
    serde_json::from_value(line.parts.clone())
        .map_err(|e| AppError::internal(format!("a line's stored parts do not parse: {e}")))
}
