"""Start and stop the real components (RabbitMQ, Mistral, the simulator) for tests, demo, bench."""
