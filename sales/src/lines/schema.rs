//! A sales document's lines and figures over GraphQL: the line input every document takes,
//! and the `DocumentLine` and `DocumentTotals` every document shows.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use entity::tenant::document_line;
use platform::{
    error::{AppError, AppResult, GqlResult},
    graphql::{Money, load_one, money},
};
use rust_decimal::Decimal;

use crate::{
    catalog::{loader::ProductById, schema::ProductNode},
    lines::{self, MAX_LINES, NewLine, StoredPart},
    shared::{
        DiscountInput, DocumentDiscount, id, opt_id, optional_text, patch_id, price_input,
        quantity_input, stored_decimal, stored_discount,
    },
    totals::{TaxGroup, TaxSnapshot},
    types::TaxKind,
};

#[derive(InputObject)]
pub struct LineInput {
    /// A catalog product: its name, unit, price and tax are copied unless given here.
    pub product_id: Option<ID>,
    /// Required without a product.
    pub description: Option<String>,
    pub unit: Option<String>,
    #[graphql(default_with = "Decimal::ONE")]
    pub quantity: Decimal,
    /// Major units of the document's currency, exact (up to six decimal places). Required
    /// without a product.
    pub unit_price: Option<Decimal>,
    pub discount: Option<DiscountInput>,
    /// Left out: the product's rate, else the tenant's default; `null`: no tax.
    pub tax_rate_id: MaybeUndefined<ID>,
}

pub fn parse_lines(lines: Vec<LineInput>, exponent: Option<u32>) -> AppResult<Vec<NewLine>> {
    if lines.len() > MAX_LINES {
        return Err(AppError::bad_input(
            "lines",
            format!("a document has at most {MAX_LINES} lines"),
        ));
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let field = |name: &str| format!("lines[{i}].{name}");
            Ok(NewLine {
                product_id: opt_id(line.product_id.as_ref(), &field("productId"))?,
                description: optional_text(
                    line.description.as_deref(),
                    &field("description"),
                    2_000,
                )?,
                unit: optional_text(line.unit.as_deref(), &field("unit"), 20)?,
                quantity: quantity_input(line.quantity, &field("quantity"))?,
                unit_price: line
                    .unit_price
                    .map(|p| price_input(p, &field("unitPrice")))
                    .transpose()?,
                discount: line
                    .discount
                    .map(|d| d.parse(&field("discount"), exponent))
                    .transpose()?,
                tax_rate_id: patch_id(line.tax_rate_id, &field("taxRateId"))?,
            })
        })
        .collect()
}

/// A document's figures, from the money engine.
#[derive(SimpleObject)]
pub struct DocumentTotals {
    /// The sum of the lines' nets.
    pub subtotal: Money,
    /// The document's discount.
    pub discount: Money,
    /// What is taxed: the sum of the tax groups' bases.
    pub tax_exclusive: Money,
    pub tax: Money,
    /// What the client pays.
    pub total: Money,
    /// One per tax rate, in the order the lines first use them.
    pub taxes: Vec<TaxTotal>,
}

/// One tax rate's share of a document.
#[derive(SimpleObject)]
pub struct TaxTotal {
    pub tax: TaxNode,
    pub base: Money,
    pub amount: Money,
}

/// A tax rate as a document copied it.
pub struct TaxNode(TaxSnapshot);

#[Object(name = "DocumentTax")]
impl TaxNode {
    /// The tenant's rate it was copied from; none for untaxed lines.
    async fn tax_rate_id(&self) -> Option<ID> {
        self.0.id.map(id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> TaxKind {
        self.0.kind
    }
    async fn percentage(&self) -> Decimal {
        self.0.percentage
    }
}

pub struct LineNode {
    line: document_line::Model,
    currency: String,
}

impl LineNode {
    fn stored_parts(&self) -> AppResult<Vec<StoredPart>> {
        lines::parts_of(&self.line)
    }
}

/// A line of a document, with what it sells as it was when written.
#[Object(name = "DocumentLine")]
impl LineNode {
    async fn id(&self) -> ID {
        id(self.line.id)
    }
    /// From 0.
    async fn position(&self) -> i32 {
        self.line.position
    }
    /// The catalog product, while it exists.
    async fn product(&self, ctx: &Context<'_>) -> GqlResult<Option<ProductNode>> {
        let Some(product) = self.line.product_id else {
            return Ok(None);
        };
        Ok(load_one::<ProductById, _>(ctx, product)
            .await?
            .map(ProductNode))
    }
    async fn sku(&self) -> Option<&str> {
        self.line.sku.as_deref()
    }
    async fn description(&self) -> &str {
        &self.line.description
    }
    async fn unit(&self) -> Option<&str> {
        self.line.unit.as_deref()
    }
    async fn quantity(&self) -> GqlResult<Decimal> {
        Ok(stored_decimal(&self.line.quantity)?)
    }
    async fn unit_price(&self) -> GqlResult<Money> {
        Ok(Money {
            amount: stored_decimal(&self.line.unit_price)?,
            currency: self.currency.clone(),
        })
    }
    async fn discount(&self) -> GqlResult<Option<DocumentDiscount>> {
        Ok(stored_discount(self.line.discount.as_ref())?.map(DocumentDiscount::from))
    }
    /// `round(quantity x unit price - discount)`; tax-inclusive when the prices are.
    async fn net(&self) -> GqlResult<Money> {
        Ok(money(self.line.net_minor, &self.currency)?)
    }
    /// Its share of the document's discount.
    async fn document_discount(&self) -> GqlResult<Money> {
        Ok(money(self.line.document_discount_minor, &self.currency)?)
    }
    /// Its parts with their tax: one for a product, one per component for a bundle.
    async fn parts(&self) -> GqlResult<Vec<LinePartNode>> {
        let currency = &self.currency;
        self.stored_parts()?
            .into_iter()
            .map(|part| {
                Ok(LinePartNode {
                    amount: money(part.amount, currency)?,
                    tax: TaxNode(part.tax),
                    component_sku: part.component.as_ref().map(|c| c.sku.clone()),
                    component_name: part.component.as_ref().map(|c| c.name.clone()),
                    component_quantity: part.component.as_ref().map(|c| c.quantity),
                })
            })
            .collect()
    }
}

/// A line's share taxed at one rate.
#[derive(SimpleObject)]
#[graphql(name = "DocumentLinePart")]
pub struct LinePartNode {
    /// After the document's discount; tax-inclusive when the prices are.
    pub amount: Money,
    pub tax: TaxNode,
    /// For a bundle's component: what it is, as the line copied it.
    pub component_sku: Option<String>,
    pub component_name: Option<String>,
    pub component_quantity: Option<Decimal>,
}

/// A document's stored figures as GraphQL shows them.
pub(crate) struct Figures<'a> {
    pub currency: &'a str,
    pub subtotal: i64,
    pub discount: i64,
    pub tax_exclusive: i64,
    pub tax: i64,
    pub total: i64,
    pub tax_groups: &'a serde_json::Value,
}

impl Figures<'_> {
    pub fn totals(&self) -> GqlResult<DocumentTotals> {
        let groups: Vec<TaxGroup> = serde_json::from_value(self.tax_groups.clone())
            .map_err(|e| AppError::internal(format!("stored tax groups do not parse: {e}")))?;
        let m = |minor: i64| money(minor, self.currency);
        Ok(DocumentTotals {
            subtotal: m(self.subtotal)?,
            discount: m(self.discount)?,
            tax_exclusive: m(self.tax_exclusive)?,
            tax: m(self.tax)?,
            total: m(self.total)?,
            taxes: groups
                .into_iter()
                .map(|g| {
                    Ok(TaxTotal {
                        tax: TaxNode(g.tax),
                        base: m(g.base)?,
                        amount: m(g.tax_amount)?,
                    })
                })
                .collect::<AppResult<_>>()?,
        })
    }
}

/// Lines as GraphQL shows them.
pub fn line_nodes(lines: Vec<document_line::Model>, currency: &str) -> Vec<LineNode> {
    lines
        .into_iter()
        .map(|line| LineNode {
            line,
            currency: currency.to_owned(),
        })
        .collect()
}

/// The stored figures of a quote, an invoice or a credit note (the same columns on each).
macro_rules! figures_of {
    ($($model:ty),+) => {$(
        impl<'a> From<&'a $model> for Figures<'a> {
            fn from(document: &'a $model) -> Self {
                Self {
                    currency: &document.currency,
                    subtotal: document.subtotal_minor,
                    discount: document.discount_minor,
                    tax_exclusive: document.tax_exclusive_minor,
                    tax: document.tax_minor,
                    total: document.total_minor,
                    tax_groups: &document.tax_groups,
                }
            }
        }
    )+};
}

figures_of!(
    entity::tenant::quote::Model,
    entity::tenant::invoice::Model,
    entity::tenant::credit_note::Model
);

/// A checked ISO 4217 code and its exponent.
pub type Currency = (String, u32);

/// The currency an input names, checked, with its exponent for reading its amounts.
pub fn currency_of(raw: Option<&str>) -> AppResult<(Option<Currency>, Option<u32>)> {
    let currency = raw
        .map(|c| crate::shared::currency_input(c, "currency"))
        .transpose()?;
    let exponent = currency.as_ref().map(|(_, e)| *e);
    Ok((currency, exponent))
}
