"""Load: the project's files, validated where they enter into typed objects (every problem with file, line and field).

- `config`: mailpipe.yaml; `content`: content/**.md; `campaigns`: campaigns/*.yaml; `yamlfile`: the YAML reading they
share.
"""
