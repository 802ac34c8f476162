//! The catalog over GraphQL.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::tenant::{product, product_component};
use platform::{
    auth::{Role, RoleGuard},
    error::{AppError, AppResult, GqlResult},
    graphql::{
        ContextExt, Money, load_one,
        pagination::{Cursor, Page, PageConnection, PageRequest, total_if_asked},
    },
    parse_id,
};
use rust_decimal::Decimal;

use crate::{
    catalog::{
        self, MAX_COMPONENTS, NewComponent, NewProduct, ProductChanges, ProductFilter,
        loader::{ComponentsByBundle, ProductById, TaxRateById},
    },
    shared::{
        currency_input, id, opt_id, optional_text, patch_id, patch_text, price_input,
        quantity_input, required_text, stored_decimal,
    },
    tax_rates::schema::TaxRateNode,
    types::ProductKind,
};

#[derive(InputObject, Default)]
pub struct ProductFilterInput {
    /// Part of the SKU or the name.
    pub search: Option<String>,
    pub kind: Option<ProductKind>,
    pub active: Option<bool>,
}

#[derive(InputObject, Clone)]
pub struct ComponentInput {
    pub product_id: ID,
    /// How many of it one bundle holds.
    #[graphql(default_with = "Decimal::ONE")]
    pub quantity: Decimal,
}

fn parse_components(components: Vec<ComponentInput>) -> AppResult<Vec<NewComponent>> {
    if components.len() > MAX_COMPONENTS {
        return Err(AppError::bad_input(
            "components",
            format!("a bundle has 1 to {MAX_COMPONENTS} components"),
        ));
    }
    components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(NewComponent {
                product_id: parse_id(&c.product_id, &format!("components[{i}].productId"))?,
                quantity: quantity_input(c.quantity, &format!("components[{i}].quantity"))?,
            })
        })
        .collect()
}

#[derive(InputObject)]
pub struct CreateProductInput {
    #[graphql(default_with = "ProductKind::Product")]
    pub kind: ProductKind,
    /// Unique in the tenant, whatever its case.
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    /// What a quantity counts (`h`, `kg`, `licence`).
    pub unit: Option<String>,
    /// Major units of `currency`, exact (up to six decimal places).
    pub unit_price: Decimal,
    /// ISO 4217; default: the tenant's default currency.
    pub currency: Option<String>,
    pub tax_rate_id: Option<ID>,
    #[graphql(default = true)]
    pub active: bool,
    /// A bundle's components (and only a bundle's).
    #[graphql(default)]
    pub components: Vec<ComponentInput>,
}

/// Fields left out stay as they are; `null` clears an optional field.
#[derive(InputObject, Default)]
pub struct UpdateProductInput {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: MaybeUndefined<String>,
    pub unit: MaybeUndefined<String>,
    pub unit_price: Option<Decimal>,
    pub currency: Option<String>,
    pub tax_rate_id: MaybeUndefined<ID>,
    pub active: Option<bool>,
    /// Replaces a bundle's components.
    pub components: Option<Vec<ComponentInput>>,
}

fn sku_input(raw: &str) -> AppResult<String> {
    let sku = required_text(raw, "sku", 64)?;
    if sku.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::bad_input("sku", "a SKU has no spaces"));
    }
    Ok(sku)
}

pub struct ProductNode(pub product::Model);

/// Something the tenant sells: a product, a service, or a bundle of them.
#[Object(name = "Product")]
impl ProductNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn kind(&self) -> GqlResult<ProductKind> {
        Ok(ProductKind::from_stored(&self.0.kind)?)
    }
    async fn sku(&self) -> &str {
        &self.0.sku
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    /// The list price of one unit, exact.
    async fn unit_price(&self) -> GqlResult<Money> {
        Ok(Money {
            amount: stored_decimal(&self.0.unit_price)?,
            currency: self.0.currency.clone(),
        })
    }
    /// The rate its lines are taxed at unless they say.
    async fn tax_rate(&self, ctx: &Context<'_>) -> GqlResult<Option<TaxRateNode>> {
        let Some(rate) = self.0.tax_rate_id else {
            return Ok(None);
        };
        Ok(load_one::<TaxRateById, _>(ctx, rate)
            .await?
            .map(TaxRateNode))
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    /// A bundle's components, in order; empty for anything else.
    async fn components(&self, ctx: &Context<'_>) -> GqlResult<Vec<ComponentNode>> {
        if self.0.kind != ProductKind::Bundle.as_str() {
            return Ok(Vec::new());
        }
        Ok(load_one::<ComponentsByBundle, _>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ComponentNode)
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct ComponentNode(product_component::Model);

/// One of a bundle's components.
#[Object(name = "BundleComponent")]
impl ComponentNode {
    async fn product(&self, ctx: &Context<'_>) -> GqlResult<ProductNode> {
        load_one::<ProductById, _>(ctx, self.0.component_id)
            .await?
            .map(ProductNode)
            .ok_or_else(|| AppError::internal("a bundle's component is missing").into())
    }
    async fn quantity(&self) -> GqlResult<Decimal> {
        Ok(stored_decimal(&self.0.quantity)?)
    }
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Products by name.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ProductFilterInput>,
    ) -> GqlResult<Page<ProductNode>> {
        let filter = filter.unwrap_or_default();
        let filter = ProductFilter {
            search: filter.search,
            kind: filter.kind,
            active: filter.active,
        };
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let rows = catalog::list(conn, &filter, &page).await?;
        let total = total_if_asked(ctx, catalog::count(conn, &filter)).await?;
        Ok(page.connection(
            rows,
            |p| Cursor::keyed(p.id, p.name_key.clone()),
            |p| Ok(ProductNode(p)),
            total,
        )?)
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn product(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ProductNode> {
        let id = parse_id(&id, "id")?;
        Ok(ProductNode(catalog::find(ctx.conn().await?, id).await?))
    }
}

#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        input: CreateProductInput,
    ) -> GqlResult<ProductNode> {
        let conn = ctx.conn().await?;
        let currency = match input.currency.as_deref() {
            Some(raw) => currency_input(raw, "currency")?.0,
            None => crate::settings::get(conn).await?.default_currency,
        };
        let new = NewProduct {
            kind: input.kind,
            sku: sku_input(&input.sku)?,
            name: required_text(&input.name, "name", 200)?,
            description: optional_text(input.description.as_deref(), "description", 10_000)?,
            unit: optional_text(input.unit.as_deref(), "unit", 20)?,
            unit_price: price_input(input.unit_price, "unitPrice")?,
            currency,
            tax_rate_id: opt_id(input.tax_rate_id.as_ref(), "taxRateId")?,
            active: input.active,
            components: parse_components(input.components)?,
        };
        Ok(ProductNode(
            catalog::create(conn, ctx.principal()?, new).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateProductInput,
    ) -> GqlResult<ProductNode> {
        let id = parse_id(&id, "id")?;
        let changes = ProductChanges {
            sku: input.sku.as_deref().map(sku_input).transpose()?,
            name: input
                .name
                .as_deref()
                .map(|n| required_text(n, "name", 200))
                .transpose()?,
            description: patch_text(input.description, "description", 10_000)?,
            unit: patch_text(input.unit, "unit", 20)?,
            unit_price: input
                .unit_price
                .map(|p| price_input(p, "unitPrice"))
                .transpose()?,
            currency: input
                .currency
                .map(|c| currency_input(&c, "currency").map(|(code, _)| code))
                .transpose()?,
            tax_rate_id: patch_id(input.tax_rate_id, "taxRateId")?,
            active: input.active,
            components: input.components.map(parse_components).transpose()?,
        };
        Ok(ProductNode(
            catalog::update(ctx.conn().await?, ctx.principal()?, id, changes, None).await?,
        ))
    }

    /// Deletes a product that no bundle holds; documents keep their copy of it.
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_product(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        catalog::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }
}
