//! The catalog: products and services, and bundles made of them. A document's line copies
//! what it sells (name, price, tax) when it is written, so later edits here never change a
//! sent document.

pub mod events;
pub mod loader;
pub mod schema;

use std::collections::HashSet;

use chrono::Utc;
use entity::tenant::{product, product_component};
use platform::{
    audit::Audited,
    auth::Principal,
    db::{
        filter::{contains, equals},
        find_by_id,
        keyset::{PageRequest, SortKey, fetch_page},
    },
    domain::Patch,
    error::{AppError, AppResult},
};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, sea_query::Expr,
};
use serde::Deserialize;
use uuid::Uuid;

use self::events::Products;
use crate::{shared::stored_decimal, tax_rates, types::ProductKind};

/// The most components a bundle has.
pub const MAX_COMPONENTS: usize = 50;

pub struct NewProduct {
    pub kind: ProductKind,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub unit: Option<String>,
    pub unit_price: Decimal,
    pub currency: String,
    pub tax_rate_id: Option<Uuid>,
    pub active: bool,
    pub components: Vec<NewComponent>,
}

#[derive(Clone, Copy)]
pub struct NewComponent {
    pub product_id: Uuid,
    pub quantity: Decimal,
}

/// Read from a stored snapshot by stored field names when an update is reverted.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ProductChanges {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: Patch<String>,
    pub unit: Patch<String>,
    pub unit_price: Option<Decimal>,
    pub currency: Option<String>,
    pub tax_rate_id: Patch<Uuid>,
    pub active: Option<bool>,
    /// Replaces a bundle's components.
    #[serde(skip)]
    pub components: Option<Vec<NewComponent>>,
}

#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    /// Part of the SKU or the name.
    pub search: Option<String>,
    pub kind: Option<ProductKind>,
    pub active: Option<bool>,
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<product::Model> {
    find_by_id::<product::Entity, _>(conn, id, "product").await
}

pub async fn components<C: ConnectionTrait>(
    conn: &C,
    bundle_id: Uuid,
) -> AppResult<Vec<product_component::Model>> {
    Ok(product_component::Entity::find()
        .filter(product_component::Column::BundleId.eq(bundle_id))
        .order_by_asc(product_component::Column::Position)
        .all(conn)
        .await?)
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    new: NewProduct,
) -> AppResult<product::Model> {
    ensure_sku_free(conn, &new.sku, None).await?;
    if let Some(rate) = new.tax_rate_id {
        tax_rates::find(conn, rate).await?;
    }
    let id = Uuid::now_v7();
    check_components(conn, id, new.kind, &new.components).await?;
    let now = Utc::now();
    let row = product::ActiveModel {
        id: Set(id),
        kind: Set(new.kind.as_str().to_owned()),
        sku_key: Set(new.sku.to_lowercase()),
        sku: Set(new.sku),
        name_key: Set(new.name.to_lowercase()),
        name: Set(new.name),
        description: Set(new.description),
        unit: Set(new.unit),
        unit_price: Set(new.unit_price.normalize().to_string()),
        currency: Set(new.currency),
        tax_rate_id: Set(new.tax_rate_id),
        active: Set(new.active),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = Products::insert(conn, actor, row).await?;
    write_components(conn, id, &new.components).await?;
    Ok(model)
}

pub async fn update<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    changes: ProductChanges,
    revert_of: Option<Uuid>,
) -> AppResult<product::Model> {
    let current = find(conn, id).await?;
    if let Some(sku) = &changes.sku {
        ensure_sku_free(conn, sku, Some(id)).await?;
    }
    if let Patch::Set(rate) = changes.tax_rate_id {
        tax_rates::find(conn, rate).await?;
    }
    let kind = ProductKind::from_stored(&current.kind)?;
    if let Some(components) = &changes.components {
        check_components(conn, id, kind, components).await?;
        product_component::Entity::delete_many()
            .filter(product_component::Column::BundleId.eq(id))
            .exec(conn)
            .await?;
        write_components(conn, id, components).await?;
    }
    let sku = changes.sku.unwrap_or_else(|| current.sku.clone());
    let name = changes.name.unwrap_or_else(|| current.name.clone());
    let unit_price = match changes.unit_price {
        Some(price) => price.normalize().to_string(),
        None => current.unit_price.clone(),
    };
    let row = product::ActiveModel {
        id: Set(id),
        kind: Set(current.kind.clone()),
        sku_key: Set(sku.to_lowercase()),
        sku: Set(sku),
        name_key: Set(name.to_lowercase()),
        name: Set(name),
        description: Set(changes.description.apply(current.description.clone())),
        unit: Set(changes.unit.apply(current.unit.clone())),
        unit_price: Set(unit_price),
        currency: Set(changes.currency.unwrap_or(current.currency.clone())),
        tax_rate_id: Set(changes.tax_rate_id.apply(current.tax_rate_id)),
        active: Set(changes.active.unwrap_or(current.active)),
        created_at: Set(current.created_at),
        updated_at: Set(Utc::now()),
    };
    Products::update(conn, actor, &current, row, revert_of).await
}

/// Deletes a product; one that is a bundle's component stays until the bundle lets it go.
/// Documents keep their copy of it.
pub async fn delete<C: ConnectionTrait>(conn: &C, actor: &Principal, id: Uuid) -> AppResult<()> {
    let current = find(conn, id).await?;
    if let Some(used) = product_component::Entity::find()
        .filter(product_component::Column::ComponentId.eq(id))
        .one(conn)
        .await?
    {
        let bundle = find(conn, used.bundle_id).await?;
        return Err(AppError::Conflict(format!(
            "the product is a component of bundle {} ({}); archive it instead",
            bundle.name, bundle.sku
        )));
    }
    Products::delete(conn, actor, &current).await
}

async fn ensure_sku_free<C: ConnectionTrait>(
    conn: &C,
    sku: &str,
    except: Option<Uuid>,
) -> AppResult<()> {
    let mut select = product::Entity::find().filter(product::Column::SkuKey.eq(sku.to_lowercase()));
    if let Some(id) = except {
        select = select.filter(product::Column::Id.ne(id));
    }
    match select.one(conn).await? {
        Some(taken) => Err(AppError::Conflict(format!(
            "SKU {:?} is taken by {}",
            taken.sku, taken.name
        ))),
        None => Ok(()),
    }
}

/// A bundle has 1 to [`MAX_COMPONENTS`] distinct components, none a bundle or itself;
/// anything else has none.
async fn check_components<C: ConnectionTrait>(
    conn: &C,
    bundle_id: Uuid,
    kind: ProductKind,
    components: &[NewComponent],
) -> AppResult<()> {
    if kind != ProductKind::Bundle {
        if !components.is_empty() {
            return Err(AppError::bad_input(
                "components",
                "only a bundle has components",
            ));
        }
        return Ok(());
    }
    if components.is_empty() || components.len() > MAX_COMPONENTS {
        return Err(AppError::bad_input(
            "components",
            format!("a bundle has 1 to {MAX_COMPONENTS} components"),
        ));
    }
    let ids: HashSet<Uuid> = components.iter().map(|c| c.product_id).collect();
    if ids.len() != components.len() {
        return Err(AppError::bad_input(
            "components",
            "a product is a bundle's component once; give it a quantity",
        ));
    }
    if ids.contains(&bundle_id) {
        return Err(AppError::bad_input(
            "components",
            "a bundle cannot contain itself",
        ));
    }
    let found = product::Entity::find()
        .filter(product::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    if found.len() != ids.len() {
        return Err(AppError::NotFound("component product"));
    }
    if let Some(bundle) = found
        .iter()
        .find(|p| p.kind == ProductKind::Bundle.as_str())
    {
        return Err(AppError::bad_input(
            "components",
            format!("{} is a bundle; bundles do not nest", bundle.name),
        ));
    }
    Ok(())
}

async fn write_components<C: ConnectionTrait>(
    conn: &C,
    bundle_id: Uuid,
    components: &[NewComponent],
) -> AppResult<()> {
    for (position, component) in components.iter().enumerate() {
        product_component::ActiveModel {
            id: Set(Uuid::now_v7()),
            bundle_id: Set(bundle_id),
            component_id: Set(component.product_id),
            quantity: Set(component.quantity.normalize().to_string()),
            position: Set(position as i32),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

pub(crate) fn condition(filter: &ProductFilter) -> Condition {
    let search = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let text = search.map(|search| {
        Condition::any()
            .add_option(contains(Expr::col(product::Column::NameKey), Some(search)))
            .add_option(contains(Expr::col(product::Column::SkuKey), Some(search)))
    });
    Condition::all()
        .add_option(equals(
            product::Column::Kind,
            filter.kind.map(|k| k.as_str()),
        ))
        .add_option(equals(product::Column::Active, filter.active))
        .add_option(text)
}

/// Products by name.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &ProductFilter,
    page: &PageRequest,
) -> AppResult<Vec<product::Model>> {
    let select = product::Entity::find().filter(condition(filter));
    fetch_page(
        conn,
        select,
        page,
        SortKey::Text(product::Column::NameKey),
        product::Column::Id,
        false,
    )
    .await
}

pub async fn count<C: ConnectionTrait>(conn: &C, filter: &ProductFilter) -> AppResult<u64> {
    Ok(product::Entity::find()
        .filter(condition(filter))
        .count(conn)
        .await?)
}

/// A product's list price, exact.
pub fn unit_price(product: &product::Model) -> AppResult<Decimal> {
    stored_decimal(&product.unit_price)
}
