//! Quotes' dataloaders.

use entity::tenant::quote;
use platform::by_id;

by_id!(QuoteById, quote);
