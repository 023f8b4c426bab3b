"""Code generation: the template context of each target (`context`, `faststream`,
`temporal`), the pipeline that renders a diagram into files (`generate`), and writing them
safely into the output folder (`write/`)."""
