//! The engines, each set up once per scenario, each with one `decide` call
//! per mint request. What is inside `decide` is what the benchmark times.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use crate::scenario::{Request, Scenario};

/// A decision reduced to what all engines can say: the granted scope set.
pub type Granted = BTreeSet<String>;

// ---------------------------------------------------------------------------
// Cedar
// ---------------------------------------------------------------------------

pub mod cedar {
    use super::*;
    use cedar_policy::{
        Authorizer, Context, Decision, Entities, Entity, EntityUid, PolicySet, Request as CRequest,
        RestrictedExpression,
    };

    pub struct Cedar {
        policies: PolicySet,
        authorizer: Authorizer,
        action: EntityUid,
    }

    /// The per-mint-request Cedar inputs: the entities (principal + one Scope
    /// entity per requested scope) and the context. A token service has to
    /// build these from every mint request; `build_inputs` is timed as part
    /// of `decide`, and separately via `authorize` for the breakdown.
    pub struct Inputs {
        pub entities: Entities,
        pub principal: EntityUid,
        pub resources: Vec<(String, EntityUid)>,
        pub context: Context,
    }

    impl Cedar {
        pub fn new(s: &Scenario) -> Self {
            let policies = PolicySet::from_str(&s.cedar_policies).expect("cedar policies parse");
            assert_eq!(policies.policies().count(), s.rules + 1);
            Cedar {
                policies,
                authorizer: Authorizer::new(),
                action: EntityUid::from_str(r#"Action::"mint""#).unwrap(),
            }
        }

        pub fn build_inputs(&self, r: &Request) -> Inputs {
            // identity.kind is the principal's entity type: "workload" -> Workload.
            let principal = uid(&entity_type_of_kind(&r.kind), &r.subject);
            let mut attrs = HashMap::with_capacity(2);
            attrs.insert(
                "issuer".to_string(),
                RestrictedExpression::new_string(r.issuer.clone()),
            );
            attrs.insert(
                "subject".to_string(),
                RestrictedExpression::new_string(r.subject.clone()),
            );
            let mut entities = Vec::with_capacity(1 + r.scopes.len());
            entities.push(Entity::new(principal.clone(), attrs, HashSet::new()).unwrap());
            let mut resources = Vec::with_capacity(r.scopes.len());
            for scope in &r.scopes {
                let ruid = uid("Scope", scope);
                let mut a = HashMap::with_capacity(1);
                a.insert(
                    "name".to_string(),
                    RestrictedExpression::new_string(scope.clone()),
                );
                entities.push(Entity::new(ruid.clone(), a, HashSet::new()).unwrap());
                resources.push((scope.clone(), ruid));
            }
            let entities = Entities::from_entities(entities, None).unwrap();
            let context = Context::from_pairs([
                (
                    "audience".to_string(),
                    RestrictedExpression::new_set(
                        r.audience
                            .iter()
                            .map(|a| RestrictedExpression::new_string(a.clone())),
                    ),
                ),
                (
                    "attested".to_string(),
                    RestrictedExpression::new_bool(r.attested),
                ),
                (
                    "device_trust".to_string(),
                    RestrictedExpression::new_string(r.device_trust.clone()),
                ),
            ])
            .unwrap();
            Inputs {
                entities,
                principal,
                resources,
                context,
            }
        }

        /// One `is_authorized` call per requested scope.
        pub fn authorize(&self, inputs: &Inputs) -> Granted {
            let mut granted = Granted::new();
            for (name, resource) in &inputs.resources {
                let req = CRequest::new(
                    inputs.principal.clone(),
                    self.action.clone(),
                    resource.clone(),
                    inputs.context.clone(),
                    None,
                )
                .unwrap();
                let resp = self
                    .authorizer
                    .is_authorized(&req, &self.policies, &inputs.entities);
                debug_assert!(resp.diagnostics().errors().next().is_none());
                if resp.decision() == Decision::Allow {
                    granted.insert(name.clone());
                }
            }
            granted
        }

        /// Full per-request cost: build entities/context, then authorize each scope.
        pub fn decide(&self, r: &Request) -> Granted {
            self.authorize(&self.build_inputs(r))
        }

        /// Errors Cedar reported while evaluating (should be none).
        pub fn errors(&self, r: &Request) -> usize {
            let inputs = self.build_inputs(r);
            inputs
                .resources
                .iter()
                .map(|(_, res)| {
                    let req = CRequest::new(
                        inputs.principal.clone(),
                        self.action.clone(),
                        res.clone(),
                        inputs.context.clone(),
                        None,
                    )
                    .unwrap();
                    self.authorizer
                        .is_authorized(&req, &self.policies, &inputs.entities)
                        .diagnostics()
                        .errors()
                        .count()
                })
                .sum()
        }
    }

    /// `workload` -> `Workload`, `service_account` -> `ServiceAccount`.
    pub fn entity_type_of_kind(kind: &str) -> String {
        kind.split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect()
    }

    fn uid(ty: &str, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(
            cedar_policy::EntityTypeName::from_str(ty).unwrap(),
            cedar_policy::EntityId::new(id),
        )
    }
}

// ---------------------------------------------------------------------------
// Rego: regorus interpreter and regorus RVM, on the same Rego module
// ---------------------------------------------------------------------------

pub mod rego {
    use super::*;
    use regorus::languages::rego::compiler::Compiler;
    use regorus::rvm::program::Program;
    use regorus::rvm::vm::RegoVM;
    use regorus::{Engine, Value};

    pub const ENTRY_POINT: &str = "data.mintgate.granted";

    /// The request as a regorus value; parsed once, outside the timed loop
    /// (as mintgate's `MintRequest` is). Cloning it is a refcount bump.
    pub fn input(r: &Request) -> Value {
        Value::from_json_str(&r.to_json()).expect("input json")
    }

    pub fn granted(v: &Value) -> Granted {
        if *v == Value::Undefined {
            return Granted::new();
        }
        let json = serde_json::to_value(v).expect("serialize rego result");
        json.as_array()
            .expect("granted is a set")
            .iter()
            .map(|s| s.as_str().expect("scope is a string").to_string())
            .collect()
    }

    /// Which of the two Rego texts of the scenario to load.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Text {
        /// `startswith`/`endswith` (the headline numbers).
        Prefix,
        /// `glob.match`.
        Glob,
    }

    fn engine(s: &Scenario, text: Text) -> Engine {
        // regorus keeps compiled globs in a process-wide LRU of 128 entries by
        // default; with more rules than that every glob.match would recompile
        // its pattern. Size it for the largest policy here, as a regorus user
        // with many glob rules would.
        static CACHE: std::sync::Once = std::sync::Once::new();
        CACHE.call_once(|| {
            regorus::cache::configure(regorus::cache::Config {
                regex: 256,
                glob: 16_384,
            })
        });
        let src = match text {
            Text::Prefix => &s.rego,
            Text::Glob => &s.rego_glob,
        };
        let mut engine = Engine::new();
        engine
            .add_policy("mintgate.rego".to_string(), src.clone())
            .expect("rego parses");
        engine
    }

    /// A boxed per-request call, so the interpreter and the VM sit in one list.
    pub type Decide = Box<dyn FnMut(&Value) -> Value>;

    /// Tree-walking interpreter: `set_input` + `eval_rule` per request.
    pub struct Interp {
        engine: Engine,
    }

    impl Interp {
        pub fn new(s: &Scenario, text: Text) -> Self {
            Interp {
                engine: engine(s, text),
            }
        }
        pub fn into_any(mut self) -> Decide {
            Box::new(move |i| self.decide(i))
        }
        pub fn decide(&mut self, input: &Value) -> Value {
            self.engine.set_input(input.clone());
            self.engine
                .eval_rule(ENTRY_POINT.to_string())
                .expect("rego eval")
        }
    }

    /// RVM: the module is compiled once to an RVM bytecode `Program`; per
    /// request the VM gets `set_input` + `execute`.
    pub struct Rvm {
        vm: RegoVM,
        pub program: Arc<Program>,
    }

    impl Rvm {
        pub fn new(s: &Scenario, text: Text) -> Self {
            let mut engine = engine(s, text);
            let entry: regorus::Rc<str> = ENTRY_POINT.into();
            let compiled = engine
                .compile_with_entrypoint(&entry)
                .expect("rego compiles");
            let program =
                Compiler::compile_from_policy(&compiled, &[ENTRY_POINT]).expect("rvm compiles");
            let mut vm = RegoVM::new();
            vm.load_program(program.clone());
            Rvm { vm, program }
        }
        pub fn into_any(mut self) -> Decide {
            Box::new(move |i| self.decide(i))
        }
        pub fn decide(&mut self, input: &Value) -> Value {
            self.vm.set_input(input.clone());
            self.vm.execute().expect("rvm execute")
        }
    }
}

// ---------------------------------------------------------------------------
// mintgate                         (feature "mintgate", on by default)
// ---------------------------------------------------------------------------

#[cfg(feature = "mintgate")]
pub mod mint {
    use super::*;

    pub struct Mint {
        pub policy: mintgate::IssuancePolicy,
    }

    /// A fixed instant: evaluation never reads a clock.
    pub fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
            .unwrap()
            .to_utc()
    }

    /// Parsed once, outside the timed loop.
    pub fn request(r: &Request) -> mintgate::MintRequest {
        serde_json::from_str(&r.to_json()).expect("mint request json")
    }

    impl Mint {
        pub fn new(s: &Scenario) -> Self {
            let policy = mintgate::IssuancePolicy::from_toml_str(&s.mintgate_toml)
                .unwrap_or_else(|e| panic!("mintgate policy compiles: {e}"));
            Mint { policy }
        }
        pub fn decide(
            &self,
            req: &mintgate::MintRequest,
            now: chrono::DateTime<chrono::Utc>,
        ) -> mintgate::Grant {
            self.policy.evaluate(req, now)
        }
    }

    pub fn granted(g: &mintgate::Grant) -> Granted {
        g.scopes.iter().cloned().collect()
    }
}
