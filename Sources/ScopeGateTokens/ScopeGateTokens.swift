// ScopeGateTokens: bearer token verification. See issue "Token validation".
