//! The CRM's closed vocabularies, shared by the services and the GraphQL API. Each is stored
//! as its lowercase name.

use async_graphql::Enum;

use platform::error::{AppError, AppResult};

macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Reads a stored value; anything else is a bug in the data, not user input.
            pub fn from_stored(raw: &str) -> AppResult<Self> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    other => Err(AppError::internal(format!(
                        concat!("unknown ", stringify!($name), " {:?} stored"),
                        other
                    ))),
                }
            }
        }
    };
}

stored_enum!(
    /// Where a contact came from.
    ContactSource {
        Website => "website",
        Referral => "referral",
        Phone => "phone",
        Email => "email",
        Whatsapp => "whatsapp",
        Import => "import",
        Other => "other",
    }
);

stored_enum!(
    /// Where a contact stands: leads become customers or are lost.
    ContactStatus {
        New => "new",
        Contacted => "contacted",
        Qualified => "qualified",
        Customer => "customer",
        Lost => "lost",
    }
);

stored_enum!(
    /// What a stage means for the deals in it.
    StageKind {
        /// Deals in progress.
        Open => "open",
        /// Deals closed as won.
        Won => "won",
        /// Deals closed as lost.
        Lost => "lost",
    }
);

stored_enum!(
    OpportunityStatus {
        Open => "open",
        Won => "won",
        Lost => "lost",
    }
);

stored_enum!(
    ActivityKind {
        Call => "call",
        Email => "email",
        Meeting => "meeting",
        Whatsapp => "whatsapp",
        Note => "note",
        Task => "task",
    }
);

stored_enum!(
    /// Headcount bands.
    CompanySize {
        /// 1-10 people.
        Micro => "micro",
        /// 11-50 people.
        Small => "small",
        /// 51-250 people.
        Medium => "medium",
        /// 251-1000 people.
        Large => "large",
        /// More than 1000 people.
        Enterprise => "enterprise",
    }
);

stored_enum!(
    /// What kind of thing an audit entry is about.
    AuditEntityType {
        Contact => "contact",
        Company => "company",
        Opportunity => "opportunity",
        Activity => "activity",
        Pipeline => "pipeline",
        Stage => "stage",
    }
);

stored_enum!(
    AuditAction {
        Create => "create",
        Update => "update",
        Delete => "delete",
        /// An update that restored earlier values.
        Revert => "revert",
    }
);

impl From<StageKind> for OpportunityStatus {
    fn from(kind: StageKind) -> Self {
        match kind {
            StageKind::Open => Self::Open,
            StageKind::Won => Self::Won,
            StageKind::Lost => Self::Lost,
        }
    }
}
