//! `nexo seed`: fills a tenant with deterministic, realistic CRM data (users, companies,
//! contacts, pipelines of 5 to 12 stages, opportunities with values and owners, activities
//! over a year), in batched inserts. The same seed gives the same data. Bulk data is not
//! audited, as an import would not be.

use std::sync::Arc;

use chrono::{Duration, Utc};
use entity::tenant::{activity, company, contact, opportunity, pipeline_stage, stage_change, user};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait};
use uuid::Uuid;

use crate::{
    AppContext,
    auth::Role,
    crm::{
        pipelines::{self, NewStage},
        types::{ActivityKind, ContactSource, ContactStatus, StageKind},
    },
    error::{AppError, AppResult},
    tenancy::TxMode,
};

const FIRST_NAMES: &[&str] = &[
    "Ana", "Bruno", "Carla", "Diego", "Elena", "Felipe", "Gabriela", "Hugo", "Isabel", "Javier",
    "Karen", "Luis", "Marta", "Nicolas", "Olivia", "Pablo", "Quentin", "Rosa", "Sergio", "Tania",
    "Ursula", "Victor", "Wendy", "Ximena", "Yago", "Zoe", "Amir", "Beatriz", "Chen", "Dmitri",
];
const LAST_NAMES: &[&str] = &[
    "Garcia",
    "Silva",
    "Martinez",
    "Rossi",
    "Muller",
    "Dubois",
    "Smith",
    "Kowalski",
    "Tanaka",
    "Okafor",
    "Novak",
    "Jensen",
    "Costa",
    "Fernandez",
    "Larsen",
    "Moreau",
    "Schmidt",
    "Ivanova",
    "Haddad",
    "Nguyen",
    "Lopez",
    "Bianchi",
    "Weber",
    "Olsen",
    "Santos",
    "Kim",
    "Patel",
    "Cohen",
];
const COMPANY_WORDS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Monarch",
    "Aperture",
    "Massive",
];
const COMPANY_SUFFIXES: &[&str] = &[
    "Labs",
    "Group",
    "Partners",
    "Industries",
    "Logistics",
    "Foods",
    "Health",
    "Systems",
];
const INDUSTRIES: &[&str] = &[
    "software",
    "retail",
    "logistics",
    "health",
    "finance",
    "manufacturing",
    "education",
];
const DEAL_WORDS: &[&str] = &[
    "Renewal",
    "Expansion",
    "Pilot",
    "Rollout",
    "Upgrade",
    "Consulting",
    "Licence",
    "Support plan",
];
const CURRENCIES: &[&str] = &["EUR", "USD", "EUR", "EUR", "GBP"];

/// Rows inserted `BATCH` at a time.
struct Batch<A> {
    rows: Vec<A>,
}

const BATCH: usize = 500;

impl<A> Default for Batch<A> {
    fn default() -> Self {
        Self {
            rows: Vec::with_capacity(BATCH),
        }
    }
}

impl<A: ActiveModelTrait + Send> Batch<A> {
    async fn push<C: ConnectionTrait>(&mut self, conn: &C, row: A) -> AppResult<()> {
        self.rows.push(row);
        if self.rows.len() == BATCH {
            self.flush(conn).await?;
        }
        Ok(())
    }

    async fn flush<C: ConnectionTrait>(&mut self, conn: &C) -> AppResult<()> {
        if !self.rows.is_empty() {
            A::Entity::insert_many(std::mem::take(&mut self.rows))
                .exec(conn)
                .await?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct SeedPlan {
    pub contacts: usize,
    pub opportunities: usize,
    pub activities: usize,
    /// Extra pipelines beside the default one, each of 5 to 12 stages.
    pub extra_pipelines: usize,
    /// A pipeline named "Board" with exactly this layout, on top of the rest.
    pub board: Option<BoardLayout>,
    pub seed: u64,
}

/// A pipeline of `stages` stages holding `per_stage` opportunities each, every one with a
/// contact, a company, an owner and a logged call: the board the benchmark reads.
#[derive(Clone, Copy, Debug)]
pub struct BoardLayout {
    pub stages: usize,
    pub per_stage: usize,
}

impl Default for SeedPlan {
    fn default() -> Self {
        Self {
            contacts: 1_000,
            opportunities: 500,
            activities: 2_000,
            extra_pipelines: 2,
            board: None,
            seed: 42,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct SeedReport {
    pub users: usize,
    pub companies: usize,
    pub contacts: usize,
    pub opportunities: usize,
    pub activities: usize,
    pub pipelines: usize,
}

/// Fills the tenant `slug` according to `plan`, in one transaction.
pub async fn seed_tenant(app: &AppContext, slug: &str, plan: &SeedPlan) -> AppResult<SeedReport> {
    let tenant = app
        .registry
        .by_slug(slug)
        .await?
        .ok_or(AppError::NotFound("tenant"))?;
    let tx = app.store.begin_tenant(&tenant, TxMode::Write).await?;
    let report = fill(&tx, plan, Arc::new(tenant.id)).await?;
    tx.commit().await?;
    // Fresh planner statistics: without them PostgreSQL misjudges how many contacts a
    // search matches and, for a common term, reads every match instead of the first 50.
    let tx = app.store.begin_tenant(&tenant, TxMode::Write).await?;
    let analyze = if app.store.is_postgres() {
        "ANALYZE companies, contacts, contact_tags, opportunities, stage_changes, activities"
    } else {
        "ANALYZE"
    };
    tx.execute_unprepared(analyze).await?;
    tx.commit().await?;
    Ok(report)
}

async fn fill<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    plan: &SeedPlan,
    tenant: Arc<Uuid>,
) -> AppResult<SeedReport> {
    let mut rng = StdRng::seed_from_u64(plan.seed ^ tenant.as_u128() as u64);
    let now = Utc::now();
    let mut report = SeedReport::default();

    // Sales users (invited, no password: they are data, not logins).
    let mut owners: Vec<Uuid> = user::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    let users: Vec<user::ActiveModel> = (0..5)
        .map(|i| {
            let id = Uuid::now_v7();
            owners.push(id);
            user::ActiveModel {
                id: Set(id),
                email: Set(format!(
                    "seller{i}.{}@seed.example",
                    Uuid::now_v7().simple()
                )),
                name: Set(Some(format!(
                    "{} {}",
                    FIRST_NAMES[i % FIRST_NAMES.len()],
                    LAST_NAMES[i % LAST_NAMES.len()]
                ))),
                password_hash: Set(None),
                role: Set(Role::Sales.as_str().into()),
                status: Set("invited".into()),
                auth_version: Set(1),
                last_login_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
        })
        .collect();
    report.users = users.len();
    user::Entity::insert_many(users).exec(conn).await?;

    // Companies: one for every 20 contacts.
    let company_count = (plan.contacts / 20).max(1);
    let mut companies = Vec::with_capacity(company_count);
    let mut rows = Batch::default();
    for i in 0..company_count {
        let id = Uuid::now_v7();
        companies.push(id);
        let name = format!(
            "{} {} {i}",
            COMPANY_WORDS.choose(&mut rng).unwrap_or(&"Acme"),
            COMPANY_SUFFIXES.choose(&mut rng).unwrap_or(&"Group")
        );
        let created = now - Duration::days(rng.random_range(30..730));
        rows.push(
            conn,
            company::ActiveModel {
                id: Set(id),
                name_key: Set(name.to_lowercase()),
                domain: Set(Some(format!(
                    "{}.example",
                    name.to_lowercase().replace(' ', "-")
                ))),
                name: Set(name),
                industry: Set(INDUSTRIES.choose(&mut rng).map(|s| (*s).to_owned())),
                size: Set(None),
                address: Set(None),
                owner_id: Set(owners.choose(&mut rng).copied()),
                created_at: Set(created),
                updated_at: Set(created),
            },
        )
        .await?;
    }
    rows.flush(conn).await?;
    report.companies = company_count;

    // Contacts.
    let statuses = [
        ContactStatus::New,
        ContactStatus::Contacted,
        ContactStatus::Qualified,
        ContactStatus::Customer,
        ContactStatus::Lost,
    ];
    let sources = [
        ContactSource::Website,
        ContactSource::Referral,
        ContactSource::Phone,
        ContactSource::Email,
        ContactSource::Whatsapp,
        ContactSource::Import,
    ];
    let mut contacts = Vec::with_capacity(plan.contacts);
    let mut rows = Batch::default();
    for i in 0..plan.contacts {
        let id = Uuid::now_v7();
        let first = *FIRST_NAMES.choose(&mut rng).unwrap_or(&"Ana");
        let last = *LAST_NAMES.choose(&mut rng).unwrap_or(&"Silva");
        let email = format!(
            "{}.{}.{i}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        );
        let phone = format!("+3491{:07}", rng.random_range(0..10_000_000));
        let created = now - Duration::minutes(rng.random_range(0..525_600));
        let active = rng.random_bool(0.7).then(|| {
            created + Duration::minutes(rng.random_range(0..(now - created).num_minutes().max(1)))
        });
        let company_id = rng.random_bool(0.8).then(|| companies[i % companies.len()]);
        contacts.push((id, company_id));
        rows.push(
            conn,
            contact::ActiveModel {
                id: Set(id),
                first_name: Set(first.into()),
                last_name: Set(Some(last.into())),
                name_key: Set(format!("{last} {first}").to_lowercase()),
                search_text: Set(format!("{first} {last} {email} {phone}").to_lowercase()),
                email: Set(Some(email)),
                phone: Set(Some(phone)),
                company_id: Set(company_id),
                owner_id: Set(owners.choose(&mut rng).copied()),
                source: Set(sources
                    .choose(&mut rng)
                    .map(|s| s.as_str())
                    .unwrap_or("other")
                    .into()),
                status: Set(statuses
                    .choose(&mut rng)
                    .map(|s| s.as_str())
                    .unwrap_or("new")
                    .into()),
                custom_fields: Set(serde_json::json!({})),
                last_activity_at: Set(active),
                created_at: Set(created),
                updated_at: Set(active.unwrap_or(created)),
            },
        )
        .await?;
    }
    rows.flush(conn).await?;
    report.contacts = plan.contacts;

    // Pipelines: the default one plus extra ones of 5 to 12 stages.
    let mut stages: Vec<pipeline_stage::Model> = Vec::new();
    let default = pipelines::default_pipeline(conn).await?;
    stages.extend(pipelines::stages_of(conn, default.id).await?);
    let seeding_actor = crate::auth::Principal {
        user_id: owners[0],
        tenant_id: *tenant,
        role: Role::Owner,
    };
    for p in 0..plan.extra_pipelines {
        let new_stages = stage_plan(rng.random_range(5..=12));
        let pipeline = pipelines::create(
            conn,
            &seeding_actor,
            format!("Pipeline {}", p + 2),
            new_stages,
        )
        .await?;
        stages.extend(pipelines::stages_of(conn, pipeline.id).await?);
    }
    report.pipelines = 1 + plan.extra_pipelines;
    // Where each opportunity goes: random stages, then the board's stages in turn.
    let mut placements: Vec<pipeline_stage::Model> = Vec::with_capacity(plan.opportunities);
    for _ in 0..plan.opportunities {
        placements.push(
            stages
                .choose(&mut rng)
                .cloned()
                .ok_or(AppError::NotFound("stage"))?,
        );
    }
    if let Some(board) = plan.board {
        let pipeline = pipelines::create(
            conn,
            &seeding_actor,
            "Board".into(),
            stage_plan(board.stages),
        )
        .await?;
        let board_stages = pipelines::stages_of(conn, pipeline.id).await?;
        for stage in &board_stages {
            placements.extend(std::iter::repeat_n(stage.clone(), board.per_stage));
        }
        report.pipelines += 1;
    }
    let board_start = plan.opportunities;

    // Opportunities, with contiguous positions per stage and their first stage change.
    let mut next_position: std::collections::HashMap<Uuid, i64> = std::collections::HashMap::new();
    let mut opportunities = Vec::with_capacity(placements.len());
    let mut rows = Batch::default();
    let mut changes = Batch::default();
    for (i, stage) in placements.into_iter().enumerate() {
        let position = next_position.entry(stage.id).or_insert(0);
        let id = Uuid::now_v7();
        opportunities.push(id);
        let (contact_id, mut company_id) = contacts
            .choose(&mut rng)
            .copied()
            .unwrap_or((Uuid::nil(), None));
        if i >= board_start {
            company_id = company_id.or_else(|| companies.choose(&mut rng).copied());
        }
        let created = now - Duration::minutes(rng.random_range(0..525_600));
        let kind = StageKind::from_stored(&stage.kind)?;
        rows.push(
            conn,
            opportunity::ActiveModel {
                id: Set(id),
                title: Set(format!(
                    "{} #{i}",
                    DEAL_WORDS.choose(&mut rng).unwrap_or(&"Deal")
                )),
                contact_id: Set((!contacts.is_empty()).then_some(contact_id)),
                company_id: Set(company_id),
                owner_id: Set(owners.choose(&mut rng).copied()),
                pipeline_id: Set(stage.pipeline_id),
                stage_id: Set(stage.id),
                value_amount: Set(rng.random_range(50_000..5_000_000)),
                currency: Set((*CURRENCIES.choose(&mut rng).unwrap_or(&"EUR")).into()),
                expected_close_date: Set(Some(
                    (created + Duration::days(rng.random_range(10..120))).date_naive(),
                )),
                status: Set(kind.as_str().into()),
                lost_reason: Set((kind == StageKind::Lost).then(|| "Price".to_owned())),
                stage_entered_at: Set(created),
                position: Set(*position),
                closed_at: Set((kind != StageKind::Open)
                    .then_some(created + Duration::days(rng.random_range(1..60)))),
                created_at: Set(created),
                updated_at: Set(created),
            },
        )
        .await?;
        *position += 1;
        changes
            .push(
                conn,
                stage_change::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    opportunity_id: Set(id),
                    from_stage_id: Set(None),
                    to_stage_id: Set(stage.id),
                    changed_by: Set(owners.first().copied()),
                    changed_at: Set(created),
                },
            )
            .await?;
    }
    rows.flush(conn).await?;
    changes.flush(conn).await?;
    report.opportunities = opportunities.len();

    // Activities over the last year, on opportunities and contacts.
    let kinds = [
        ActivityKind::Call,
        ActivityKind::Email,
        ActivityKind::Meeting,
        ActivityKind::Whatsapp,
        ActivityKind::Note,
        ActivityKind::Task,
    ];
    let mut rows = Batch::default();
    for i in 0..plan.activities {
        let kind = *kinds.choose(&mut rng).unwrap_or(&ActivityKind::Note);
        let created = now - Duration::minutes(rng.random_range(0..525_600));
        let on_opportunity = !opportunities.is_empty() && rng.random_bool(0.6);
        let due = (kind == ActivityKind::Task)
            .then(|| created + Duration::days(rng.random_range(-5..20)));
        rows.push(
            conn,
            activity::ActiveModel {
                id: Set(Uuid::now_v7()),
                kind: Set(kind.as_str().into()),
                subject: Set(format!("{} {i}", kind.as_str())),
                body: Set(None),
                due_at: Set(due),
                completed_at: Set(
                    (kind != ActivityKind::Task || rng.random_bool(0.5)).then_some(created)
                ),
                contact_id: Set((!on_opportunity && !contacts.is_empty())
                    .then(|| contacts[i % contacts.len()].0)),
                opportunity_id: Set(on_opportunity.then(|| opportunities[i % opportunities.len()])),
                author_id: Set(owners.choose(&mut rng).copied()),
                created_at: Set(created),
                updated_at: Set(created),
            },
        )
        .await?;
    }
    // One logged call on each board opportunity.
    for (i, opportunity) in opportunities.iter().enumerate().skip(board_start) {
        let created = now - Duration::minutes(rng.random_range(0..43_200));
        rows.push(
            conn,
            activity::ActiveModel {
                id: Set(Uuid::now_v7()),
                kind: Set(ActivityKind::Call.as_str().into()),
                subject: Set(format!("Intro call {i}")),
                body: Set(None),
                due_at: Set(None),
                completed_at: Set(Some(created)),
                contact_id: Set(None),
                opportunity_id: Set(Some(*opportunity)),
                author_id: Set(owners.choose(&mut rng).copied()),
                created_at: Set(created),
                updated_at: Set(created),
            },
        )
        .await?;
    }
    rows.flush(conn).await?;
    report.activities = plan.activities + opportunities.len() - board_start;
    Ok(report)
}

/// `count` stages: open steps of rising probability, then Won and Lost.
fn stage_plan(count: usize) -> Vec<NewStage> {
    (0..count)
        .map(|s| {
            let (name, probability, kind) = if s + 2 == count {
                ("Won".to_owned(), 100, StageKind::Won)
            } else if s + 1 == count {
                ("Lost".to_owned(), 0, StageKind::Lost)
            } else {
                (
                    format!("Step {}", s + 1),
                    ((s + 1) * 90 / count.saturating_sub(2).max(1)) as i16,
                    StageKind::Open,
                )
            };
            NewStage {
                name,
                probability,
                kind,
            }
        })
        .collect()
}
