"""What operators read and do: request lists, thread timelines, the review queue, explanations, health."""
