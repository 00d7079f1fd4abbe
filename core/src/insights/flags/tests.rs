//! Each rule gives the documented light, and its factors name the values behind it.

use super::*;
use proptest::prelude::*;

fn factor_named<'a>(flag: &'a Flag, name: &str) -> &'a Factor {
    flag.factors
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no factor {name:?} in {:?}", flag.factors))
}

fn stats() -> NodeStats {
    NodeStats {
        learners: 40,
        attempted: 30,
        passed: 24,
        dropped: 1,
        mean_attempts_stuck: Some(2.0),
        predicted_pass: Some(0.7),
    }
}

#[test]
fn a_node_most_learners_pass_is_green() {
    let flag = roadblock(9, &stats());
    assert_eq!(flag.light, Light::Green);
    assert_eq!(flag.subject, Subject::Node { node_id: 9 });
    assert_eq!(factor_named(&flag, "observed pass rate").value, "80%");
}

#[test]
fn a_low_predicted_pass_rate_makes_a_roadblock_and_says_so() {
    let amber = roadblock(
        1,
        &NodeStats {
            predicted_pass: Some(0.38),
            ..stats()
        },
    );
    assert_eq!(amber.light, Light::Amber);
    let f = factor_named(&amber, "predicted pass rate");
    assert_eq!((f.value.as_str(), f.note.as_str()), ("38%", "below 50%"));
    assert_eq!(f.light, Light::Amber);

    let red = roadblock(
        1,
        &NodeStats {
            predicted_pass: Some(0.2),
            ..stats()
        },
    );
    assert_eq!(red.light, Light::Red);
    assert_eq!(factor_named(&red, "predicted pass rate").note, "below 30%");
}

#[test]
fn many_attempts_or_drop_off_make_a_roadblock() {
    let stuck = roadblock(
        1,
        &NodeStats {
            mean_attempts_stuck: Some(9.5),
            ..stats()
        },
    );
    assert_eq!(stuck.light, Light::Red);
    assert_eq!(factor_named(&stuck, "attempts of those stuck").value, "9.5");

    let dropped = roadblock(
        1,
        &NodeStats {
            dropped: 6,
            ..stats()
        },
    );
    assert_eq!(dropped.light, Light::Amber);
    assert_eq!(factor_named(&dropped, "dropped off").value, "20%");
}

#[test]
fn a_node_too_few_learners_reached_is_not_judged() {
    let flag = roadblock(
        1,
        &NodeStats {
            learners: 3,
            attempted: 3,
            passed: 0,
            dropped: 3,
            mean_attempts_stuck: Some(20.0),
            predicted_pass: Some(0.05),
        },
    );
    assert_eq!(flag.light, Light::Green);
    assert_eq!(flag.factors.len(), 1);
    assert!(flag.factors[0].note.contains("too few"));
}

#[test]
fn wheel_spinning_follows_attempts_and_mastery() {
    let red = wheel_spinning("ada", "loops", 12, 0.7);
    assert_eq!(red.light, Light::Red);
    assert_eq!(
        red.subject,
        Subject::LearnerSkill {
            learner: "ada".into(),
            skill: "loops".into()
        }
    );
    assert_eq!(factor_named(&red, "attempts on the skill").value, "12");
    let p = factor_named(&red, "predicted chance of success now");
    assert_eq!(
        (p.value.as_str(), p.note.as_str()),
        ("70%", "below mastery (80%)")
    );

    assert_eq!(wheel_spinning("ada", "loops", 7, 0.5).light, Light::Amber);
    assert_eq!(
        wheel_spinning("ada", "loops", 7, 0.7).light,
        Light::Green,
        "progressing"
    );
    assert_eq!(
        wheel_spinning("ada", "loops", 4, 0.1).light,
        Light::Green,
        "still early"
    );
    assert_eq!(
        wheel_spinning("ada", "loops", 30, 0.85).light,
        Light::Green,
        "mastered"
    );
}

#[test]
fn inactivity_and_slowing_down_put_a_learner_at_risk() {
    let active = Activity {
        days_inactive: 0,
        passes_last_week: 3,
        passes_previous_three_weeks: 9,
    };
    assert_eq!(at_risk("ada", &active).light, Light::Green);

    let quiet = Activity {
        days_inactive: 4,
        ..active.clone()
    };
    let flag = at_risk("ada", &quiet);
    assert_eq!(flag.light, Light::Amber);
    assert_eq!(factor_named(&flag, "days inactive").value, "4");

    let gone = Activity {
        days_inactive: 8,
        ..active.clone()
    };
    assert_eq!(at_risk("ada", &gone).light, Light::Red);

    let slower = Activity {
        passes_last_week: 1,
        ..active.clone()
    };
    let flag = at_risk("ada", &slower);
    assert_eq!(flag.light, Light::Amber);
    let velocity = factor_named(&flag, "nodes passed in the last 7 days");
    assert_eq!(velocity.value, "1");
    assert!(velocity.note.contains("3.0"), "{}", velocity.note);

    let both = Activity {
        days_inactive: 4,
        passes_last_week: 0,
        passes_previous_three_weeks: 9,
    };
    assert_eq!(at_risk("ada", &both).light, Light::Red);
}

#[test]
fn a_slow_learner_getting_slower_is_not_a_drop() {
    let slow = Activity {
        days_inactive: 1,
        passes_last_week: 0,
        passes_previous_three_weeks: 2,
    };
    assert_eq!(at_risk("ada", &slow).light, Light::Green);
}

#[test]
fn flags_serialise_with_readable_names() {
    let json = serde_json::to_value(wheel_spinning("ada", "loops", 12, 0.7)).expect("json");
    assert_eq!(json["kind"], "wheel_spinning");
    assert_eq!(json["light"], "red");
    assert_eq!(json["subject"]["type"], "learner_skill");
}

proptest! {
    #[test]
    fn a_flag_is_as_bad_as_its_worst_factor(
        learners in 0u32..100,
        attempted in 0u32..100,
        passed in 0u32..100,
        dropped in 0u32..100,
        stuck in prop::option::of(0.0f64..20.0),
        predicted in prop::option::of(0.0f64..1.0),
    ) {
        let flag = roadblock(1, &NodeStats {
            learners,
            attempted,
            passed: passed.min(attempted),
            dropped: dropped.min(attempted),
            mean_attempts_stuck: stuck,
            predicted_pass: predicted,
        });
        let worst = flag.factors.iter().map(|f| f.light).max();
        prop_assert_eq!(Some(flag.light), worst);
        prop_assert!(flag.factors.iter().all(|f| !f.value.is_empty() && !f.note.is_empty()));
    }
}
