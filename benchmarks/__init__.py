"""Scripts that write the result tables and plots in results/."""
