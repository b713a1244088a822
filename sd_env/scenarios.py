"""Named scenarios: documented starting points a user can sweep from.

A scenario is a set of parameter values with a reason for each value, the
historical cases it stands for, and the literature behind it. Explicit
keyword arguments always override a scenario's values::

    make_params("jervis-1", observation_noise=0.0)

``sd-env scenarios --describe NAME`` prints a scenario's card (its values
and reasons, its cases and citations, and what the model predicts there for
fixed stances); ``docs/scenarios.md`` holds every card.

The Jervis (1978) worlds are numbered as in his table: 1 = offence has the
advantage and offence cannot be told from defence (doubly dangerous); 2 =
defence advantage, indistinguishable; 3 = offence advantage,
distinguishable; 4 = defence advantage and distinguishable (doubly stable).
The balances 3 and 1/3 echo the "3:1 rule" that an attacker needs three
times the defender's strength (Mearsheimer 1989): at theta = 1/3 that rule
holds, at theta = 3 it is reversed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sd_env.errors import ParameterError, did_you_mean
from sd_env.params import PARAMETER_NAMES, PER_STATE_PARAMETERS, EnvParams

OFFENSE_ADVANTAGE = 3.0
DEFENSE_ADVANTAGE = 1.0 / 3.0


@dataclass(frozen=True)
class Scenario:
    """A named preset: its summary, its parameter values with the reason for each, its cases and sources.

    ``values`` maps parameter names to values (every other parameter keeps its
    default); ``reasons`` gives, for every one of them, why it has that value.
    ``illustrative`` names the values that are rough sizes chosen to tell the
    story, not measurements. ``states`` says whom each seat stands for
    (``state_0`` first); ``cases`` is the history the scenario stands for and
    ``citations`` the full references cited in the reasons and cases.
    """

    name: str
    summary: str
    values: dict[str, Any] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    illustrative: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    cases: str = ""
    citations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.values) - set(PARAMETER_NAMES))
        if unknown:
            raise ParameterError(f"scenario {self.name!r}: unknown parameter(s) {unknown}"
                                 f"{did_you_mean(unknown[0], PARAMETER_NAMES)}")
        if set(self.reasons) != set(self.values):
            missing, extra = sorted(set(self.values) - set(self.reasons)), sorted(set(self.reasons) - set(self.values))
            raise ParameterError(f"scenario {self.name!r}: every value needs one reason (missing {missing}, extra {extra})")
        if not set(self.illustrative) <= set(self.values):
            raise ParameterError(f"scenario {self.name!r}: illustrative names values it does not set: "
                             f"{sorted(set(self.illustrative) - set(self.values))}")
        n_states = self.values.get("n_states", 2)
        if self.states and len(self.states) != n_states:
            raise ParameterError(f"scenario {self.name!r}: states must name {n_states} seats, got {len(self.states)}")

    @property
    def rationale(self) -> str:
        """The reasons and the cases as one paragraph."""
        parts = [f"{name}={self.values[name]!r}: {reason}" for name, reason in self.reasons.items()]
        return " ".join([*parts, self.cases]).strip()

    def params(self, **overrides: Any) -> EnvParams:
        """This scenario's parameters with ``overrides`` applied (:func:`make_params`)."""
        return make_params(self.name, **overrides)


JERVIS_1978 = "Jervis, R. (1978). Cooperation under the security dilemma. World Politics 30(2), 167-214."
MEARSHEIMER_1989 = ("Mearsheimer, J. J. (1989). Assessing the conventional balance: the 3:1 rule and its critics. "
                    "International Security 13(4), 54-89.")
GLASER_KAUFMANN_1998 = ("Glaser, C. L., & Kaufmann, C. (1998). What is the offense-defense balance and can we "
                        "measure it? International Security 22(4), 44-82.")
KYDD_1997 = "Kydd, A. (1997). Game theory and the spiral model. World Politics 49(3), 371-400."
SNYDER_1984 = "Snyder, G. H. (1984). The security dilemma in alliance politics. World Politics 36(4), 461-495."


def _jervis(number: int, offense_advantage: bool, distinguishable: bool, summary: str) -> Scenario:
    balance = "3" if offense_advantage else "1/3"
    return Scenario(
        name=f"jervis-{number}",
        summary=summary,
        values={
            "offense_defense_balance": OFFENSE_ADVANTAGE if offense_advantage else DEFENSE_ADVANTAGE,
            "distinguishability": 1.0 if distinguishable else 0.0,
        },
        reasons={
            "offense_defense_balance": (
                f"{'offence' if offense_advantage else 'defence'} has the advantage in Jervis's world {number}; "
                f"{balance} echoes the 3:1 rule (an attacker needs three times the defender's strength), "
                f"{'reversed' if offense_advantage else 'as it stands'}"),
            "distinguishability": (
                f"offensive and defensive systems {'can' if distinguishable else 'cannot'} be told apart in world "
                f"{number}: {'each seen as it is' if distinguishable else 'only total arms seen'}"),
        },
        states=("state_0", "state_1"),
        cases=(f"Jervis's (1978) world {number}, the cell of his two-by-two table where "
               f"{'offence' if offense_advantage else 'defence'} has the advantage and the two "
               f"{'can' if distinguishable else 'cannot'} be distinguished; everything else as in 'bilateral'. "
               "An abstract world, not a historical case."),
        citations=(JERVIS_1978, MEARSHEIMER_1989, GLASER_KAUFMANN_1998),
    )


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in [
        Scenario(
            name="bilateral",
            summary="Two symmetric states, neutral offence-defence balance, partly ambiguous arms (default).",
            states=("state_0", "state_1"),
            cases=("The model's defaults and the reference point for sweeps: two equal states, "
                   "offense_defense_balance=1 (neither side favoured), distinguishability=0.5 and "
                   "observation_noise=0.2 (rivals see arms roughly, and their mix only in part), a quarter of "
                   "states greedy (Kydd 1997), no alliances. Not a historical case."),
            citations=(JERVIS_1978, KYDD_1997),
        ),
        _jervis(1, True, False, "Offence dominant and indistinguishable from defence: doubly dangerous."),
        _jervis(2, False, False, "Defence dominant but indistinguishable: a security dilemma, yet compatible needs."),
        _jervis(3, True, True, "Offence dominant but distinguishable: no security dilemma, aggression possible."),
        _jervis(4, False, True, "Defence dominant and distinguishable: doubly stable."),
        Scenario(
            name="pre-1914",
            summary="Four great powers in two alliance blocs; offence believed dominant (the 1914 chain-gang).",
            values={
                "n_states": 4,
                "offense_defense_balance": 2.0,
                "distinguishability": 0.3,
                "observation_noise": 0.3,
                "initial_wealth": (1.3, 0.7, 0.9, 1.1),
                "greedy_prior": 0.3,
                "alliances": True,
                "alliance_blocs": ((0, 1), (2, 3)),
                "renege_cost": 2.0,
                "max_cycles": 50,
            },
            reasons={
                "n_states": "the four continental great powers of the blocs Richardson (1960) fitted",
                "offense_defense_balance": ("the 'cult of the offensive' (Van Evera 1984; J. Snyder 1984): offence "
                                            "believed dominant; the model cannot hold a belief apart from the truth, "
                                            "so offence is made dominant"),
                "distinguishability": "mobilisation was hard to read as defensive or offensive",
                "observation_noise": "general staffs misjudged each other's readiness and railway capacity",
                "initial_wealth": "rough relative sizes of the four economies, chosen for illustration, not data",
                "greedy_prior": "some revisionist aims (Alsace-Lorraine, the Balkans) on both sides",
                "alliances": "the Triple Alliance and the Franco-Russian alliance",
                "alliance_blocs": "Germany with Austria-Hungary, France with Russia",
                "renege_cost": ("firm commitments, costly to abandon: the chain-ganging of Christensen & Snyder "
                                "(1990)"),
                "max_cycles": "half a century, roughly 1871-1914",
            },
            illustrative=("initial_wealth", "greedy_prior"),
            states=("Germany", "Austria-Hungary", "France", "Russia"),
            cases=("Europe before the First World War, the standard case of an offence-dominant, chain-ganging "
                   "multipolar system, and of the arms races Richardson (1960) fitted (the Anglo-German naval race "
                   "is outside it: Britain is not a seat)."),
            citations=(
                "Richardson, L. F. (1960). Arms and Insecurity. Boxwood Press.",
                "Van Evera, S. (1984). The cult of the offensive and the origins of the First World War. "
                "International Security 9(1), 58-107.",
                "Snyder, J. (1984). Civil-military relations and the cult of the offensive, 1914 and 1984. "
                "International Security 9(1), 108-146.",
                "Christensen, T. J., & Snyder, J. (1990). Chain gangs and passed bucks: predicting alliance "
                "patterns in multipolarity. International Organization 44(2), 137-168.",
            ),
        ),
        Scenario(
            name="cold-war",
            summary="Two blocs led by superpowers; second-strike forces favour defence, opaque rival.",
            values={
                "n_states": 4,
                "offense_defense_balance": 0.5,
                "distinguishability": 0.5,
                "observation_noise": 0.4,
                "initial_wealth": (2.0, 0.8, 1.6, 0.6),
                "greedy_prior": 0.3,
                "alliances": True,
                "alliance_blocs": ((0, 1), (2, 3)),
                "renege_cost": 1.0,
                "max_cycles": 50,
            },
            reasons={
                "n_states": "two superpowers, each with its allies",
                "offense_defense_balance": "secure second-strike forces favour the defender (Jervis 1978)",
                "distinguishability": "many systems, such as bombers and missiles, are ambiguous",
                "observation_noise": "a closed society is hard to observe (the 'missile gap')",
                "initial_wealth": "rough relative sizes of the four blocs' economies, illustrative",
                "greedy_prior": "each side suspected the other of expansionist aims",
                "alliances": "NATO and the Warsaw Pact",
                "alliance_blocs": "the United States with Western Europe, the Soviet Union with Eastern Europe",
                "renege_cost": "extended deterrence rested on credibility, but less rigidly than in 1914",
                "max_cycles": "half a century, roughly 1945-1991",
            },
            illustrative=("initial_wealth", "greedy_prior"),
            states=("United States", "Western Europe", "Soviet Union", "Eastern Europe"),
            cases="The bipolar Cold War, 1945-1991, read through Jervis's (1978) defence-dominant nuclear world.",
            citations=(JERVIS_1978,),
        ),
        Scenario(
            name="missile-crisis",
            summary="Two rivals; one suddenly deploys a concealed, ambiguous missile system (1962).",
            values={
                "weapon_names": ("fortifications", "missiles", "armour"),
                "weapon_offense_weights": (0.0, 0.7, 1.0),
                "weapon_visibility": (1.0, 0.3, 1.0),
                "offense_defense_balance": 1.5,
                "distinguishability": 0.3,
                "observation_noise": 0.3,
                "surprise_deployment": (1, 1, 1.5, 5),
                "max_cycles": 30,
            },
            reasons={
                "weapon_names": "missiles in place of the dual-use system",
                "weapon_offense_weights": ("missiles are ambiguous: a deterrent to one side, a first-strike threat "
                                           "to the other (offensive weight 0.7)"),
                "weapon_visibility": "missiles are mostly hidden (visibility 0.3), as the deployment in Cuba was",
                "offense_defense_balance": "a mild offence advantage makes the crisis acute",
                "distinguishability": "hard to tell what a missile is for",
                "observation_noise": "reconnaissance gave a rough picture",
                "surprise_deployment": ("in year 5 (counting from 0) state_1 receives 1.5 units of missiles at no "
                                        "cost, arriving with that year's purchases: the covert deployment in Cuba"),
                "max_cycles": "a short horizon makes the crisis acute",
            },
            illustrative=("surprise_deployment", "offense_defense_balance"),
            states=("United States", "Soviet Union"),
            cases="The Cuban missile crisis of 1962, in spirit: a sudden, concealed, ambiguous deployment.",
            citations=("Allison, G. T., & Zelikow, P. (1999). Essence of Decision, 2nd ed. Longman.",),
        ),
        Scenario(
            name="thucydides",
            summary="A rising power and an established one: Athens grows faster than Sparta (the Thucydides trap).",
            values={
                "growth_rate": (0.01, 0.04),
                "initial_wealth": (1.0, 0.6),
                "distinguishability": 0.3,
                "max_cycles": 50,
            },
            reasons={
                "growth_rate": ("Athens (state_1) grows faster than Sparta (state_0): tribute of the Delian League and "
                                "trade against a helot economy that hardly grew; 4% against 1% a year puts the power "
                                "transition about 17 years into the episode"),
                "initial_wealth": ("Sparta is the leading power after the Persian Wars (479 BC), Athens smaller; "
                                   "the ratio sets when the transition comes"),
                "distinguishability": ("Athens' walls and fleet were defensive in Athenian eyes and a threat in "
                                       "Spartan ones: Sparta asked Athens not to rebuild its walls "
                                       "(Thucydides 1.90)"),
                "max_cycles": "the Pentecontaetia, the fifty years from 479 to the war of 431 BC",
            },
            illustrative=("growth_rate", "initial_wealth"),
            states=("Sparta (established)", "Athens (rising)"),
            cases=("Thucydides (1.23): 'the growth of the power of Athens, and the alarm which this inspired in "
                   "Sparta, made war inevitable'. Power-transition theory (Organski 1958) puts war near parity; "
                   "the preventive motive of the declining state (Levy 1987) and the rising state's inability to "
                   "promise restraint (Fearon 1995) explain why; Allison (2017) counts 12 wars in 16 modern "
                   "transitions. Everything not set is as in 'bilateral' (neutral balance: Sparta by land, Athens "
                   "by sea, neither could easily beat the other in its own element)."),
            citations=(
                "Thucydides. History of the Peloponnesian War, 1.23 and 1.88-1.90 (trans. R. Crawley).",
                "Organski, A. F. K. (1958). World Politics. Knopf.",
                "Gilpin, R. (1981). War and Change in World Politics. Cambridge University Press.",
                "Levy, J. S. (1987). Declining power and the preventive motivation for war. World Politics 40(1), "
                "82-107.",
                "Fearon, J. D. (1995). Rationalist explanations for war. International Organization 49(3), "
                "379-414.",
                "Allison, G. (2017). Destined for War: Can America and China Escape Thucydides's Trap? Houghton "
                "Mifflin Harcourt.",
            ),
        ),
        Scenario(
            name="russia-ukraine",
            summary="A great power, a smaller neighbour and a bloc the neighbour may commit to (2014-2022).",
            values={
                "n_states": 3,
                "initial_wealth": (1.0, 0.25, 4.0),
                "alliances": True,
                "distinguishability": 0.3,
                "greedy_prior": 0.5,
                "max_cycles": 30,
            },
            reasons={
                "n_states": "Russia, Ukraine, and the Western bloc (NATO) acting as one",
                "initial_wealth": ("Russia's economy several times Ukraine's and the bloc's several times Russia's; "
                                   "compressed (by GDP the ratios are about 1 : 0.1 : 15) because only part of the "
                                   "bloc's power is engaged in the region"),
                "alliances": ("commitments can form: Ukraine and the bloc may commit to each other, as the 2008 "
                              "Bucharest declaration promised; there are no blocs at the start, since Ukraine is "
                              "not a member"),
                "distinguishability": ("the bloc's defensive commitment and the arms it supplies read as offensive "
                                       "encirclement from Moscow (Mearsheimer 2014)"),
                "greedy_prior": ("whether Russia seeks security or conquest is the contested question of the "
                                 "case: an even prior leaves it open"),
                "max_cycles": "a generation, from 1991 to 2022",
            },
            illustrative=("initial_wealth", "greedy_prior"),
            states=("Russia (great power)", "Ukraine (neighbour)", "Western bloc (NATO)"),
            cases=("Russia and Ukraine from 2014 to the invasion of 2022, read by some as a classic security "
                   "dilemma (Mearsheimer 2014; Benjamin 2022): a great power facing a neighbour that moves toward an "
                   "alliance of others reads the alliance's defensive commitment as offensive encirclement. Others "
                   "read it as revisionism; the model leaves Russia's type to the prior. Everything not set is as in "
                   "'bilateral'."),
            citations=(
                "Mearsheimer, J. J. (2014). Why the Ukraine crisis is the West's fault. Foreign Affairs 93(5), 77-89.",
                "Benjamin, M., & Davies, N. J. S. (2022, December 27). The Ukraine crisis is a classic 'security "
                "dilemma'. Antiwar.com (also in Salon, December 28, 2022).",
                "Walt, S. M. (1987). The Origins of Alliances. Cornell University Press.",
                SNYDER_1984,
            ),
        ),
        Scenario(
            name="thaad-2016",
            summary="A patron, two small allies and a rival great power: the 2016 THAAD alliance dilemma.",
            values={
                "n_states": 4,
                "initial_wealth": (2.0, 0.2, 0.5, 1.2),
                "growth_rate": (0.02, 0.03, 0.01, 0.065),
                "alliances": True,
                "alliance_blocs": ((0, 1), (0, 2)),
                "distinguishability": 0.3,
                "surprise_deployment": (1, 0, 0.02, 1),
                "renege_cost": 2.0,
                "max_cycles": 30,
            },
            reasons={
                "n_states": "the United States, South Korea, Japan and China",
                "initial_wealth": ("in proportion to 2016 GDP (about 18.7, 1.4, 4.9 and 11.2 trillion dollars), "
                                   "rounded"),
                "growth_rate": ("close to the real growth rates of 2016 (United States 1.7%, South Korea 2.9%, "
                                "Japan 1.0%, China 6.7%; IMF World Economic Outlook), rounded: China is the rising "
                                "power"),
                "alliances": "alliance commitments can be kept, dropped or made",
                "alliance_blocs": ("hub and spoke: the United States is allied with South Korea (1953) and with Japan "
                                   "(1960), the two allies not with each other"),
                "distinguishability": ("THAAD is a purely defensive interceptor, but China read its radar as a threat "
                                       "to its deterrent"),
                "surprise_deployment": ("in year 1 South Korea receives a THAAD battery (fortifications, worth a "
                                        "tenth of its yearly output) at no cost to itself, as the United States "
                                        "paid for it"),
                "renege_cost": ("abandoning an ally costs the patron its credibility across the region, which is why "
                                "Seoul feared abandonment if it refused and Tokyo feared entrapment"),
                "max_cycles": "a generation",
            },
            illustrative=("surprise_deployment",),
            states=("United States (patron)", "South Korea", "Japan", "China (rival great power)"),
            cases=("South Korea's 2016 decision to deploy THAAD: Seoul feared abandonment by the United States if it "
                   "refused and retaliation by China if it accepted; Japan feared entrapment in a Korean crisis "
                   "through the US alliance (Snyder 1984; Cha 2000). In the model Japan is called to fight only if "
                   "the United States itself is attacked, so its entrapment runs through the patron, and China's "
                   "retaliation can only be arms or war (the model has no sanctions). Everything not set is as in "
                   "'bilateral'."),
            citations=(
                SNYDER_1984,
                "Cha, V. D. (2000). Abandonment, entrapment, and neoclassical realism in Asia: the United States, "
                "Japan, and Korea. International Studies Quarterly 44(2), 261-291.",
                "Cha, V. D. (2010). Powerplay: origins of the U.S. alliance system in Asia. International Security "
                "34(3), 158-196.",
            ),
        ),
    ]
}


def scenario_names() -> list[str]:
    return list(SCENARIOS)


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``; an unknown name raises ``ParameterError`` listing the known ones."""
    if name not in SCENARIOS:
        known = f"known scenarios: {', '.join(SCENARIOS)}"
        raise ParameterError(f"unknown scenario {name!r}{did_you_mean(name, SCENARIOS, then=known)}")
    return SCENARIOS[name]


def _has_entry_per_state(value: Any) -> bool:
    return isinstance(value, (tuple, list))


def make_params(scenario: str = "bilateral", **overrides: Any) -> EnvParams:
    """Parameters of ``scenario`` with ``overrides`` applied; unknown names raise ``ParameterError``."""
    unknown = sorted(set(overrides) - set(PARAMETER_NAMES))
    if unknown:
        known = f"known parameters: {', '.join(PARAMETER_NAMES)}"
        raise ParameterError(f"unknown parameter(s) {unknown}{did_you_mean(unknown[0], PARAMETER_NAMES, then=known)}")
    values = dict(get_scenario(scenario).values)
    if "n_states" in overrides:
        for name in PER_STATE_PARAMETERS:
            if name not in overrides and _has_entry_per_state(values.get(name)):
                # A scenario's per-state values no longer fit a different number of states.
                del values[name]
    if "n_states" in overrides and "alliance_blocs" not in overrides and "alliance_blocs" in values:
        blocs = tuple(tuple(m for m in bloc if m < overrides["n_states"]) for bloc in values["alliance_blocs"])
        values["alliance_blocs"] = tuple(b for b in blocs if b)
    if overrides.get("alliances") is False and "alliance_blocs" not in overrides:
        values.pop("alliance_blocs", None)
    values.update(overrides)
    return EnvParams(**values)
