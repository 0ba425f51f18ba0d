//! proofs-check as a library: every claim of the paper's main text, checked numerically with the
//! ima-oracle, with the convergence order actually observed. The binary (`src/main.rs`) only parses
//! the command line, calls [`run::run`] and prints; the integration tests import the registry
//! ([`claims::CLAIMS`], [`sweep::priors`]) from here instead of restating its sizes. See
//! `proofs-check/README.md` for what each check computes and the derivations it relies on.
//!
//! | module | contents |
//! | --- | --- |
//! | [`claims`] | the registry: each claim with the function that checks it; the verdict rows |
//! | `checks` | the checks, one function per claim (private: reached through the registry) |
//! | [`sweep`] | the models, points and per-(x, γ²) numbers every check reads |
//! | [`run`] | one run: identities, the sweep on all threads, the rows |
//! | [`fit`] | observed convergence orders and verdicts |
//! | [`identities`] | the identities the oracle stands on, per model family |
//! | [`tol`] | every tolerance, round-off floor and verdict margin, with the argument for it |
//! | [`report`] | the verdict tables, report.md and claims.csv; writes the report folder |
//! | [`figures`] | the paper's Fig. 2 and Fig. 4 redrawn, one residual plot per order claim |
//! | [`experiments`] | the paper's trained experiments (§4), `--experiment NAME` |
//! | [`table`] | tables (aligned text, markdown, CSV) rendered from one column list |
//! | [`svg`] | minimal log–log SVG plots |

#![deny(missing_docs)]

mod checks;
pub mod claims;
pub mod experiments;
pub mod figures;
pub mod fit;
pub mod identities;
pub mod report;
pub mod run;
pub mod svg;
pub mod sweep;
pub mod table;
pub mod tol;
