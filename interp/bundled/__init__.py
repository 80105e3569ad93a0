"""What is about the bundled toy models: the generator of their training stories (stories) and
the behavioural tasks measured on their cards (tasks). Word lists, prompt sets and corpora for
any model are in interp.texts; the scripts that build the models are in tools/bundled."""
