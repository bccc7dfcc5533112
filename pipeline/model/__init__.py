"""Training, packaging and loading the fine-tuned pipeline."""
