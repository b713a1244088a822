"""sd-env as a BenchMARL task: the adapter (fixed agents, one discrete action), MAPPO and IPPO for real.

The adapter needs only PettingZoo; the training tests need the ``benchmarl`` extra and are skipped without it.
"""

from __future__ import annotations

import numpy as np
import pytest

import sd_env
from sd_env.experiments.training.benchmarl_task import BenchMARLAdapter


def test_the_adapter_keeps_every_agent_and_flattens_the_action():
    env = BenchMARLAdapter(sd_env.parallel_env(scenario="pre-1914", elimination_threshold=0.9))
    assert env.action_space("state_0").n == int(np.prod(env.nvec)) == 11 * 4 * 4 * 2 * 2 * 2
    every = np.array(np.meshgrid(*[np.arange(n) for n in env.nvec], indexing="ij")).reshape(len(env.nvec), -1).T
    assert np.array_equal(env.flatten(every), np.arange(len(every)))
    assert all(np.array_equal(env.unflatten(i), every[i]) for i in (0, 1, 57, len(every) - 1))
    observations, infos = env.reset(seed=3)
    assert set(observations) == set(infos) == set(env.possible_agents)
    rng = np.random.default_rng(0)
    eliminated, steps = set(), 0
    while env.agents:
        alive = set(env.env.agents)
        observations, rewards, terminations, truncations, _ = env.step(
            {agent: int(rng.integers(env.action_space(agent).n)) for agent in env.agents})
        steps += 1
        assert set(observations) == set(rewards) == set(terminations) == set(env.possible_agents)
        if env.env.agents:  # at the end everyone leaves env.agents, the survivors truncated
            eliminated |= alive - set(env.env.agents)
        for agent in eliminated - alive:  # eliminated before this step: zeros, no reward
            assert not observations[agent].any() and rewards[agent] == 0.0
        if env.agents:
            assert not any(terminations.values()) and not any(truncations.values())
    # Every agent is done at the end, and only then; the eliminated ones terminated.
    assert all(terminations[a] or truncations[a] for a in env.possible_agents)
    assert all(terminations[a] for a in eliminated) and eliminated, "a high threshold eliminates someone"
    assert steps == env.env.params.max_cycles
    assert env.state().shape == env.state_space.shape


@pytest.fixture
def needs_benchmarl():
    """Skips where BenchMARL is not installed (imported only here: TorchRL is heavy to import)."""
    pytest.importorskip("benchmarl", reason="BenchMARL is optional: pip install 'sd-env[benchmarl]'")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")  # TorchRL's and BenchMARL's deprecation and version warnings
@pytest.mark.parametrize("algorithm, scenario", [("mappo", "jervis-1"), ("ippo", "pre-1914")])
def test_benchmarl_trains_on_sd_env_for_a_few_thousand_frames(algorithm, scenario, tmp_path, needs_benchmarl):
    import torch

    from sd_env.experiments.training.benchmarl_task import make_experiment, task_for

    experiment = make_experiment(algorithm, task_for(scenario), frames=2000, seed=0, folder=tmp_path)
    before = [p.detach().clone() for p in experiment.policy.parameters()]
    experiment.run()
    assert experiment.total_frames == 2000
    after = list(experiment.policy.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, before)), "the policy learned nothing"
    logs = list(tmp_path.rglob("*.csv"))
    assert logs, "BenchMARL's CSV logger wrote nothing"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
def test_benchmarl_mappo_follows_the_benchmark_protocol_within_its_budget(needs_benchmarl):
    from sd_env.experiments.studies.benchmark import EnvFactory, focal_policies
    from sd_env.experiments.training.benchmarl_task import train_mappo

    factory = EnvFactory("jervis-1", 2048)
    policy = train_mappo(factory, 2048, seed=0)
    assert factory.used == 2000 and not factory.exceeded  # whole batches of 1000 frames
    for seat_policy in focal_policies(policy, factory.params, "mappo"):  # checked shapes and bounds
        actions = seat_policy.act(np.zeros((5, 16), dtype=np.float32))
        assert actions.shape == (5, 3)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
def test_sd_env_train_with_the_benchmarl_backend_writes_the_same_run_directory(tmp_path, needs_benchmarl):
    """backend: benchmarl is a registry entry like sb3 and rllib: the run directory has config.yaml, run.json,
    drift.csv at every checkpoint and metrics.json with the same evaluation rows; the run is a policy spec whose
    self-play is metrics.json's, each independent learner plays its own seat, and --resume goes on to the new
    total."""
    import json

    import pandas as pd

    import torch
    from benchmarl.experiment import Experiment
    from tensordict import TensorDict

    from sd_env.agents.learned import BenchMARLPolicy
    from sd_env.experiments.cli import main
    from sd_env.experiments.lab.seating import PolicyCache
    from sd_env.experiments.training.config import load_config
    from sd_env.experiments.training.final_metrics import self_play_row
    from sd_env.experiments.training.train import train
    from sd_env.scenarios import make_params

    settings = ["backend=benchmarl", "algorithm=independent_ppo", "scenario=jervis-1", "total_timesteps=2000",
                "num_envs=4", "ppo.n_steps=50", "ppo.batch_size=100", "checkpoint_every=800", "eval_episodes=6",
                "progress_bar=false", "opponents=[dove,hawk]", f"output_dir={tmp_path}", "name=bm"]
    metrics = train(load_config(None, settings))
    run = tmp_path / "bm"
    assert metrics["timesteps"] == [2000]
    assert list(metrics) == ["timesteps", "training_seconds", "actions", "evaluation"]
    assert list(metrics["evaluation"]) == ["self-play", "vs dove", "vs hawk"]
    assert json.loads((run / "metrics.json").read_text())["evaluation"] == metrics["evaluation"]
    assert list(pd.read_csv(run / "drift.csv")["timesteps"]) == [800, 1600, 2000]  # 400 agent-steps a batch

    params = make_params("jervis-1")
    # The run loads without the opt-in (checkpoints are read weights-only, config.pkl never), and each seat's
    # policy is the one BenchMARL itself restores from config.pkl and the checkpoint: the same logits.
    seated = PolicyCache(params).seat([str(run)] * 2)
    assert [policy.policy.seat for policy in seated] == [0, 1]  # one network per state, each in its own seat
    self_play = self_play_row(params, seated, 6, 1)  # the run's evaluation seed is its seed + 1
    assert self_play["welfare"] == pytest.approx(metrics["evaluation"]["self-play"]["welfare"], abs=1e-4)
    checkpoint = BenchMARLPolicy.latest_checkpoint(run / "benchmarl")
    reloaded = Experiment.reload_from_file(str(checkpoint), experiment_patch={"loggers": []}).policy
    observations = np.random.default_rng(0).normal(size=(7, 2, 16)).astype(np.float32)

    def logits(policy):
        data = TensorDict({("agents", "observation"): torch.as_tensor(observations)}, batch_size=[7])
        with torch.no_grad():
            return policy(data).get(("agents", "logits"))

    torch.testing.assert_close(logits(seated[0].policy.policy), logits(reloaded))

    resume = ["train", "--resume", "--output-dir", str(tmp_path), "--set", "name=bm", *[
        item for setting in settings if not setting.startswith(("output_dir", "name", "total_timesteps"))
        for item in ("--set", setting)], "--set", "total_timesteps=3200"]
    assert main(resume) == 0  # resuming reads the checkpoint weights-only too: no opt-in
    assert json.loads((run / "metrics.json").read_text())["timesteps"] == [3200]
    assert list(pd.read_csv(run / "drift.csv")["timesteps"]) == [800, 1600, 2000, 2400, 3200]
