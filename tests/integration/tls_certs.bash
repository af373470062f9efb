# SPDX-License-Identifier: Apache-2.0
# Test certificates for the TLS listeners (sourced, not run): make_tls_certs DIR writes,
# with the openssl CLI, a CA (ca.pem), a server certificate for 127.0.0.1/localhost
# signed by it (server.pem, server.key), a client certificate signed by it (client.pem,
# client.key), and a second, unrelated CA with a client certificate of its own
# (other-ca.pem, other-client.pem, other-client.key). EC P-256 keys: fast to make.

make_tls_certs() { # dir
    local d=$1
    mkdir -p "$d"
    (
        cd "$d"
        ca() { # name subject
            openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -keyout "$1.key" -out "$1.pem" -days 2 -subj "$2" 2>/dev/null
        }
        leaf() { # name subject ca extensions
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
            printf '%s\n' "$4" >"$1.ext"
            openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
                -out "$1.pem" -days 2 -extfile "$1.ext" 2>/dev/null
        }
        ca ca "/CN=ganglion test CA"
        ca other-ca "/CN=another CA"
        leaf server "/CN=localhost" ca \
            "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
        leaf client "/CN=test-client" ca "extendedKeyUsage=clientAuth"
        leaf other-client "/CN=stranger" other-ca "extendedKeyUsage=clientAuth"
    ) || return 1
    [[ -s "$d/server.pem" && -s "$d/client.pem" && -s "$d/other-client.pem" ]]
}
