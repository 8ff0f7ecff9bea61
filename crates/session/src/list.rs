//! Listing sessions as a stream over `nextToken` pages.

use agbcloud_wire::session::{Labels, ListSessionParams, SessionSummary};
use futures_util::Stream;

use crate::client::Agb;
use crate::error::Result;

/// Which sessions to list: a label filter (AND of all pairs) and a page size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    labels: Labels,
    page_size: u32,
}

impl Default for ListFilter {
    /// Every session of the caller, 10 per page (the official SDKs' default).
    fn default() -> Self {
        Self {
            labels: Labels::new(),
            page_size: 10,
        }
    }
}

impl ListFilter {
    /// Every session of the caller.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only sessions carrying this label (filters combine with AND).
    #[must_use]
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Sessions per request (at least 1).
    #[must_use]
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }
}

enum Page {
    First,
    Next(String),
    Done,
}

pub(crate) fn list_stream(
    agb: Agb,
    filter: ListFilter,
) -> impl Stream<Item = Result<SessionSummary>> + Send {
    use futures_util::StreamExt;
    futures_util::stream::unfold(Page::First, move |page| {
        let agb = agb.clone();
        let filter = filter.clone();
        async move {
            let next_token = match page {
                Page::First => None,
                Page::Next(token) => Some(token),
                Page::Done => return None,
            };
            let params = ListSessionParams {
                max_results: filter.page_size,
                next_token,
                labels: filter.labels,
                is_all: None,
            };
            Some(match agb.list_page(&params).await {
                Ok((items, next)) => {
                    let items: Vec<Result<SessionSummary>> = items.into_iter().map(Ok).collect();
                    (items, next.map_or(Page::Done, Page::Next))
                }
                Err(error) => (vec![Err(error)], Page::Done),
            })
        }
    })
    .flat_map(futures_util::stream::iter)
}
