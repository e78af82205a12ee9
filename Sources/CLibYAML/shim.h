// The system libyaml (Debian: libyaml-dev), read by ScopeGate's event composer (Loading/ComposedYAML.swift).
#include <yaml.h>
