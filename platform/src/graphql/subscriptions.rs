//! How WebSocket subscriptions execute. Every subscriber holds its own slot (the limits)
//! and ends when its user is deactivated. Subscribers of a tenant who send the same live
//! subscription (same text, operation, variables and role) share one execution: one parsed
//! document, one resolver stream, and each message resolved once and handed to all of
//! them. An office screen watching a dashboard then costs little more than its connection,
//! and a change is resolved once however many watch it. Which root fields are shared, and
//! how, each vertical registers ([`ShareableFields`]); a subscription with a cursor
//! (`after`) replays its own history and executes on its own.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use async_graphql::{
    Data, Executor, Request, Response, Value,
    parser::types::{OperationType, Selection},
};
use futures::{
    StreamExt,
    stream::{self, BoxStream},
};
use tokio::{sync::broadcast, task::AbortHandle};
use uuid::Uuid;

use super::{
    analyze_operation, check_literal_lists, check_variable_lists, finalize_response,
    selected_operation,
};
use crate::{
    AppContext,
    auth::{Role, TenantToken},
    error::AppError,
    events::slots::{self, ConnectionSubscriptions},
    tenancy::Tenant,
};

/// Messages a shared execution keeps for subscribers that have not read them yet. One
/// further behind is ended with `SLOW_CONSUMER` rather than holding memory for it; it
/// subscribes again, with the last sequence it received as `after`.
const SHARED_BUFFER: usize = 256;

/// How subscribers of a shared root field share it: what a joiner gets first.
#[derive(Clone, Copy)]
pub enum Sharing {
    /// Only what happens after joining (a feed of changes).
    LiveOnly,
    /// The latest message, then what follows (each message is a full snapshot).
    LatestFirst,
}

/// Root subscription fields whose identical live subscribers share one execution, by name.
pub type ShareableFields = Arc<HashMap<&'static str, Sharing>>;

#[derive(Clone, PartialEq, Eq, Hash)]
struct ShareKey {
    tenant: Uuid,
    role: Role,
    operation: Option<String>,
    query: String,
    variables: String,
}

/// This instance's shared subscription executions.
#[derive(Clone)]
pub struct SharedExecutions {
    executions: Arc<Mutex<HashMap<ShareKey, Arc<Execution>>>>,
    shareable: ShareableFields,
}

struct Execution {
    key: ShareKey,
    sharing: Sharing,
    channel: Mutex<Channel>,
    pump: OnceLock<AbortHandle>,
}

struct Channel {
    /// `None` once the execution ended: subscribers read what is left, then end.
    sender: Option<broadcast::Sender<Arc<Response>>>,
    latest: Option<Arc<Response>>,
}

impl SharedExecutions {
    pub fn new(shareable: ShareableFields) -> Self {
        Self {
            executions: Default::default(),
            shareable,
        }
    }

    /// Executions running on this instance (each serving one or more subscribers).
    pub fn len(&self) -> usize {
        self.executions.lock().map(|m| m.len()).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Joins the execution of `key`, starting it if none runs.
    fn join(
        &self,
        key: ShareKey,
        sharing: Sharing,
        schema: &impl Executor,
        request: Request,
        session: Arc<Data>,
    ) -> BoxStream<'static, Response> {
        let Ok(mut executions) = self.executions.lock() else {
            return error_stream(AppError::internal("shared subscriptions poisoned"));
        };
        if let Some(execution) = executions.get(&key) {
            let joined = execution.channel.lock().ok().and_then(|channel| {
                let receiver = channel.sender.as_ref()?.subscribe();
                Some((receiver, channel.latest.clone()))
            });
            if let Some((receiver, latest)) = joined {
                return self.subscriber(execution.clone(), receiver, latest);
            }
        }
        let (sender, receiver) = broadcast::channel(SHARED_BUFFER);
        let execution = Arc::new(Execution {
            key: key.clone(),
            sharing,
            channel: Mutex::new(Channel {
                sender: Some(sender),
                latest: None,
            }),
            pump: OnceLock::new(),
        });
        let pump = {
            let execution = execution.clone();
            let registry = self.clone();
            let mut responses = schema.execute_stream(request, Some(session));
            tokio::spawn(async move {
                while let Some(mut response) = responses.next().await {
                    finalize_response(&mut response);
                    execution.publish(Arc::new(response));
                }
                registry.finish(&execution);
            })
        };
        let _ = execution.pump.set(pump.abort_handle());
        executions.insert(key, execution.clone());
        self.subscriber(execution, receiver, None)
    }

    fn subscriber(
        &self,
        execution: Arc<Execution>,
        receiver: broadcast::Receiver<Arc<Response>>,
        latest: Option<Arc<Response>>,
    ) -> BoxStream<'static, Response> {
        let member = Member {
            registry: self.clone(),
            execution,
            receiver: Some(receiver),
        };
        let first = stream::iter(latest.map(|r| copy(&r)));
        let live = stream::unfold(Some(member), |member| async move {
            let mut member = member?;
            let receiver = member.receiver.as_mut()?;
            match receiver.recv().await {
                Ok(response) => Some((copy(&response), Some(member))),
                Err(broadcast::error::RecvError::Closed) => None,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    let error = AppError::SlowConsumer(format!(
                        "this subscriber fell {missed} messages behind and was ended; \
                         subscribe again (with the last sequence received as `after`)"
                    ));
                    Some((Response::from_errors(vec![error.to_server_error()]), None))
                }
            }
        });
        first.chain(live).boxed()
    }

    /// The execution's stream ended: later subscribers start a new one.
    fn finish(&self, execution: &Arc<Execution>) {
        if let Ok(mut executions) = self.executions.lock() {
            forget(&mut executions, execution);
        }
        if let Ok(mut channel) = execution.channel.lock() {
            channel.sender = None;
        }
    }
}

impl Execution {
    fn publish(&self, response: Arc<Response>) {
        let Ok(mut channel) = self.channel.lock() else {
            return;
        };
        if matches!(self.sharing, Sharing::LatestFirst) {
            channel.latest = Some(response.clone());
        }
        if let Some(sender) = &channel.sender {
            // No receiver: the last subscriber is leaving and stops this execution.
            let _ = sender.send(response);
        }
    }
}

/// One subscriber of a shared execution; the last to leave stops it.
struct Member {
    registry: SharedExecutions,
    execution: Arc<Execution>,
    receiver: Option<broadcast::Receiver<Arc<Response>>>,
}

impl Drop for Member {
    fn drop(&mut self) {
        // Under the registry's lock, as joins are: nobody joins between the count and the
        // removal.
        let Ok(mut executions) = self.registry.executions.lock() else {
            return;
        };
        drop(self.receiver.take());
        let listeners = self
            .execution
            .channel
            .lock()
            .map(|c| c.sender.as_ref().map_or(0, |s| s.receiver_count()))
            .unwrap_or_default();
        if listeners > 0 {
            return;
        }
        forget(&mut executions, &self.execution);
        if let Some(pump) = self.execution.pump.get() {
            pump.abort();
        }
    }
}

/// Removes `execution` from the registry, unless a newer one already runs under its key.
fn forget(executions: &mut HashMap<ShareKey, Arc<Execution>>, execution: &Arc<Execution>) {
    if executions
        .get(&execution.key)
        .is_some_and(|e| Arc::ptr_eq(e, execution))
    {
        executions.remove(&execution.key);
    }
}

/// A response for one more subscriber (the WebSocket protocol takes them by value).
fn copy(response: &Response) -> Response {
    let mut copy = Response::new(response.data.clone());
    copy.errors = response.errors.clone();
    copy.extensions = response.extensions.clone();
    copy
}

fn error_stream(error: AppError) -> BoxStream<'static, Response> {
    stream::once(async move { Response::from_errors(vec![error.to_server_error()]) }).boxed()
}

/// Runs the WebSocket operations of one connection on the tenant read schema.
#[derive(Clone)]
pub struct SubscriptionExecutor<S> {
    pub schema: S,
    pub app: AppContext,
}

impl<S: Executor + Clone> Executor for SubscriptionExecutor<S> {
    async fn execute(&self, request: Request) -> Response {
        let mut response = self.schema.execute(request).await;
        finalize_response(&mut response);
        response
    }

    /// Every operation of a connection is authorized anew (the token unexpired, the user
    /// active with their current role, the tenant the same and active) and held to the
    /// limits of an HTTP request.
    fn execute_stream(
        &self,
        request: Request,
        session: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let this = self.clone();
        let session = session.unwrap_or_default();
        stream::once(async move { this.authorized(request, session).await })
            .flatten()
            .boxed()
    }
}

impl<S: Executor + Clone> SubscriptionExecutor<S> {
    async fn authorized(
        &self,
        mut request: Request,
        session: Arc<Data>,
    ) -> BoxStream<'static, Response> {
        let (Some(token), Some(tenant), Some(connection)) = (
            get::<TenantToken>(&session).copied(),
            get::<Arc<Tenant>>(&session).cloned(),
            get::<ConnectionSubscriptions>(&session).cloned(),
        ) else {
            // Only a connection that was never initialised has none of them.
            return error_stream(AppError::Unauthenticated("sign in first".into()));
        };
        let (tenant, principal) = match self.app.access.authorize_again(&tenant, &token).await {
            Ok(authorized) => authorized,
            Err(error) => return error_stream(error),
        };
        let limits = &self.app.config.limits;
        let operation_name = request.operation_name.clone();
        let checked = check_variable_lists(&request, limits.max_input_list).and_then(|()| {
            match request.parsed_query() {
                Ok(document) => {
                    check_literal_lists(document, limits.max_input_list).and_then(|()| {
                        analyze_operation(document, operation_name.as_deref(), limits.max_aliases)
                            .map(|_| ())
                    })
                }
                // The executor reports a document that does not parse.
                Err(_) => Ok(()),
            }
        });
        if let Err(error) = checked {
            return error_stream(error);
        }
        request = request.data(principal.clone()).data(tenant.clone());
        let plan = plan(&mut request, &self.app.shared_subscriptions.shareable);
        let sharing = match plan {
            Plan::NotASubscription => {
                return self.answer(request, session, limits.request_timeout);
            }
            Plan::QueryOrMutation => {
                // A query or mutation needs the request's transaction, which only HTTP opens
                // and commits.
                return error_stream(AppError::MethodNotAllowed(
                    "the WebSocket carries subscriptions: send queries and mutations over HTTP"
                        .into(),
                ));
            }
            Plan::Alone => None,
            Plan::Shared(sharing) => Some(sharing),
        };
        let slot = match slots::acquire(&self.app, &connection, tenant.id) {
            Ok(slot) => slot,
            Err(error) => return error_stream(error),
        };
        let stream = match sharing {
            Some(sharing) => {
                let key = ShareKey {
                    tenant: tenant.id,
                    role: principal.role,
                    operation: request.operation_name.clone(),
                    query: request.query.clone(),
                    variables: serde_json::to_string(&request.variables).unwrap_or_default(),
                };
                self.app
                    .shared_subscriptions
                    .join(key, sharing, &self.schema, request, session)
            }
            None => self.alone(request, session),
        };
        let session = slots::Session {
            tenant,
            token,
            principal,
        };
        slots::guard(stream, slot, &self.app, session).boxed()
    }
}

impl<S: Executor + Clone> SubscriptionExecutor<S> {
    /// A query (or an error) over the connection, within the request timeout.
    fn answer(
        &self,
        request: Request,
        session: Arc<Data>,
        timeout: std::time::Duration,
    ) -> BoxStream<'static, Response> {
        let mut responses = self.alone(request, session);
        stream::once(async move {
            match tokio::time::timeout(timeout, responses.next()).await {
                Ok(Some(response)) => response,
                Ok(None) => Response::default(),
                Err(_) => Response::from_errors(vec![
                    AppError::Timeout(timeout.as_millis()).to_server_error(),
                ]),
            }
        })
        .boxed()
    }

    /// An operation executed for its subscriber only.
    fn alone(&self, request: Request, session: Arc<Data>) -> BoxStream<'static, Response> {
        self.schema
            .execute_stream(request, Some(session))
            .map(|mut response| {
                finalize_response(&mut response);
                response
            })
            .boxed()
    }
}

fn get<T: Any>(data: &Data) -> Option<&T> {
    data.get(&TypeId::of::<T>())
        .and_then(|value| value.downcast_ref::<T>())
}

/// How a WebSocket operation runs.
enum Plan {
    /// Not an operation async-graphql can run: it answers with the error.
    NotASubscription,
    /// A query or a mutation: refused, they go over HTTP.
    QueryOrMutation,
    /// A subscription that executes for its subscriber only.
    Alone,
    /// A subscription identical subscribers share.
    Shared(Sharing),
}

fn plan(request: &mut Request, shareable: &ShareableFields) -> Plan {
    let operation_name = request.operation_name.clone();
    let variables = request.variables.clone();
    let Ok(document) = request.parsed_query() else {
        return Plan::NotASubscription;
    };
    let Some(operation) = selected_operation(document, operation_name.as_deref()) else {
        return Plan::NotASubscription;
    };
    let operation = &operation.node;
    if operation.ty != OperationType::Subscription {
        return Plan::QueryOrMutation;
    }
    let [selection] = operation.selection_set.node.items.as_slice() else {
        return Plan::Alone;
    };
    let Selection::Field(field) = &selection.node else {
        return Plan::Alone;
    };
    let field = &field.node;
    if !field.directives.is_empty() {
        return Plan::Alone;
    }
    let Some(&sharing) = shareable.get(field.name.node.as_str()) else {
        return Plan::Alone;
    };
    // A cursor means a history of its own to replay.
    let cursor = field.get_argument("after").map(|argument| {
        argument.node.clone().into_const_with(|name| {
            let value = variables.get(&name).cloned().or_else(|| {
                operation
                    .variable_definitions
                    .iter()
                    .find(|d| d.node.name.node == name)
                    .and_then(|d| d.node.default_value().cloned())
            });
            Ok::<_, ()>(value.unwrap_or(Value::Null))
        })
    });
    match cursor {
        None | Some(Ok(Value::Null)) => Plan::Shared(sharing),
        Some(_) => Plan::Alone,
    }
}
