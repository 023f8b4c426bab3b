"""The Mermaid language, text to model and back: finding diagrams in files (`sources`,
`extract`, `fences`, `snippets`), reading one (`preprocess`, `lexer`, `lalr` with
`grammar/`, `builder`, `parser`) and writing canonical Mermaid back (`emit`)."""
