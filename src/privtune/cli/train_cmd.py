"""`privtune budget` (privacy planning) and `privtune train` (DP fine-tuning)."""

from __future__ import annotations

from pathlib import Path

import typer

from privtune.cli.output import console, emit_json


def register(app: typer.Typer) -> None:
    @app.command("budget")
    def budget(
        noise_multiplier: float | None = typer.Option(None, "--noise-multiplier", help="σ; prints ε."),
        target_epsilon: float | None = typer.Option(None, "--target-epsilon", help="ε; prints the calibrated σ."),
        sample_rate: float | None = typer.Option(None, "--sample-rate", help="Poisson sampling rate q."),
        steps: int | None = typer.Option(None, "--steps", help="Number of steps T."),
        dataset_size: int | None = typer.Option(None, "--dataset-size", help="N (derives q = B/N)."),
        batch_size: int | None = typer.Option(None, "--batch-size", help="Expected batch size B."),
        epochs: float | None = typer.Option(None, "--epochs", help="Epochs (derives T = epochs/q)."),
        delta: float = typer.Option(1e-5, "--delta", help="δ."),
        accountant: str = typer.Option("prv", "--accountant", help="prv, rdp or pld."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Compute ε for a noise multiplier, or the σ for a target ε, with a per-epoch ε table.

        Example: privtune budget --noise-multiplier 1.5 --sample-rate 0.04 --steps 2250 --delta 1e-5
        """
        from rich.table import Table

        from privtune.errors import ConfigError
        from privtune.train import accounting as acc

        if (noise_multiplier is None) == (target_epsilon is None):
            raise ConfigError("give exactly one of --noise-multiplier and --target-epsilon")
        if dataset_size is not None or batch_size is not None:
            if dataset_size is None or batch_size is None:
                raise ConfigError("--dataset-size and --batch-size go together")
            plan = acc.Plan.from_data(dataset_size, batch_size, epochs=epochs, steps=steps)
            sample_rate, steps = plan.sample_rate, plan.steps
        if sample_rate is None or steps is None:
            raise ConfigError("give --sample-rate and --steps, or --dataset-size, --batch-size and --epochs/--steps")
        out: dict[str, object] = {"sample_rate": sample_rate, "steps": steps, "delta": delta, "accountant": accountant}
        if target_epsilon is not None:
            sigma = acc.calibrate_noise(target_epsilon, sample_rate, steps, delta, accountant)
            out["target_epsilon"] = target_epsilon
        else:
            assert noise_multiplier is not None
            sigma = noise_multiplier
        out["noise_multiplier"] = sigma
        out["epsilon"] = acc.epsilon(sigma, sample_rate, steps, delta, accountant)
        out["per_epoch"] = acc.epsilon_table(sigma, sample_rate, steps, delta, accountant)
        if as_json:
            emit_json(out)
            return
        console.print(
            f"σ = {sigma:.4f}   q = {sample_rate:.5g}   T = {steps}   δ = {delta:.3g}   accountant = {accountant}"
        )
        console.print(f"[bold]ε = {out['epsilon']:.4f}[/]")
        table = Table("epoch", "steps", "ε")
        for row in out["per_epoch"]:  # type: ignore[union-attr]
            table.add_row(f"{row['epoch']:.2f}", str(row["steps"]), f"{row['epsilon']:.4f}")
        console.print(table)

    @app.command("train")
    def train(
        run: Path = typer.Argument(..., help="Run directory (reads protect/train.jsonl or ingest/records.jsonl)."),
        config: Path | None = typer.Option(None, "--config", help="Pipeline YAML config."),
        model: str | None = typer.Option(None, "--model", help="Local HF model dir or preset (tiny-gpt2, tiny-llama)."),
        method: str | None = typer.Option(None, "--method", help="lora or full."),
        epochs: float | None = typer.Option(None, "--epochs", help="Passes over the data."),
        max_steps: int | None = typer.Option(None, "--max-steps", help="Optimizer steps (overrides epochs)."),
        batch_size: int | None = typer.Option(None, "--batch-size", help="Expected logical batch size."),
        micro_batch_size: int | None = typer.Option(None, "--micro-batch-size", help="Physical micro-batch."),
        learning_rate: float | None = typer.Option(None, "--lr", help="Learning rate."),
        target_epsilon: float | None = typer.Option(None, "--target-epsilon", help="Privacy budget ε."),
        noise_multiplier: float | None = typer.Option(None, "--noise-multiplier", help="σ instead of a target ε."),
        delta: float | None = typer.Option(None, "--delta", help="δ (default 1/(10N))."),
        max_grad_norm: float | None = typer.Option(None, "--max-grad-norm", help="Clipping bound C."),
        accountant: str | None = typer.Option(None, "--accountant", help="prv, rdp or pld."),
        no_dp: bool = typer.Option(False, "--no-dp", help="Non-private baseline (no guarantee!)."),
        device: str | None = typer.Option(None, "--device", help="cpu, cuda or auto."),
        seed: int | None = typer.Option(None, "--seed", help="Training seed."),
        resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint."),
        as_json: bool = typer.Option(False, "--json", help="Print the training summary as JSON."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress output."),
    ) -> None:
        """Fine-tune a causal LM with DP-SGD on the run's records (LoRA or full), with canaries.

        Example: privtune train runs/demo --model tiny-gpt2 --target-epsilon 8 --epochs 3
        """
        from privtune.config import load_config, with_overrides
        from privtune.train.trainer import train_run

        cfg = load_config(config)
        train_over = dict(
            method=method, epochs=epochs, max_steps=max_steps, batch_size=batch_size,
            micro_batch_size=micro_batch_size, learning_rate=learning_rate, device=device, seed=seed,
        )
        cfg = with_overrides(cfg, "train", **train_over)
        if model is not None:
            cfg = cfg.model_copy(
                update={"train": cfg.train.model_copy(update={"model": cfg.train.model.model_copy(update={"path": model})})}
            )
        dp_over = dict(
            target_epsilon=target_epsilon, noise_multiplier=noise_multiplier, delta=delta,
            max_grad_norm=max_grad_norm, accountant=accountant, enabled=False if no_dp else None,
        )
        cfg = with_overrides(cfg, "dp", **dp_over)
        if target_epsilon is not None and noise_multiplier is None:  # calibrate σ to the given ε
            cfg = cfg.model_copy(update={"dp": cfg.dp.model_copy(update={"noise_multiplier": None})})
        summary = train_run(run, cfg, resume=resume, quiet=quiet or as_json)
        if as_json:
            emit_json(summary)
            return
        unit = summary["unit_of_privacy"]
        if summary["dp"]:
            console.print(
                f"[green]trained[/] {summary['steps']} steps; ε = {summary['epsilon']:.3f} (δ = {summary['delta']:.2g}, "
                f"σ = {summary['noise_multiplier']:.3f}, {summary['accountant']})"
            )
            console.print(f"unit of privacy: {unit}")
        else:
            console.print(f"[yellow]trained WITHOUT differential privacy[/] ({summary['steps']} steps)")
        if summary.get("val_loss") is not None:
            console.print(f"validation loss {summary['val_loss']:.4f}, perplexity {summary['val_perplexity']:.2f}")
