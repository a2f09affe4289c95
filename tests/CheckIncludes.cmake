# Enforces the modules' dependency rules (docs/ARCHITECTURE.md) on #include lines.
# Run by CTest (architecture.include_rules).
set(failures "")
function(check_folder folder pattern why)
  file(GLOB_RECURSE files ${SOURCE_DIR}/${folder}/*.hpp ${SOURCE_DIR}/${folder}/*.cpp)
  foreach(f ${files})
    file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include")
    foreach(line ${lines})
      if(line MATCHES "${pattern}")
        file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
        set(failures "${failures}\n  ${rel}: ${line}  (${why})" PARENT_SCOPE)
        set(failures "${failures}\n  ${rel}: ${line}  (${why})")
      endif()
    endforeach()
  endforeach()
endfunction()

set(io "[<\"](boost/|openssl/|ares|lmdb|toml\\+\\+|thread>|mutex>|systemd/|sys/socket|netinet)")
check_folder(include/ferry "[<\"](boost/|openssl/|ares|lmdb|toml|queue/|mta/)" "include/ferry is standard library only")
check_folder(queue "[<\"](mta/|boost/|openssl/|ares|toml)" "queue/ knows nothing of SMTP, Asio, TLS or DNS")
check_folder(mta/smtp "${io}|[<\"]queue/" "mta/smtp is sans-IO")
check_folder(mta/delivery "${io}|[<\"]queue/" "mta/delivery is pure policy")
check_folder(mta/dsn "${io}|[<\"]queue/" "mta/dsn is sans-IO")
check_folder(mta/dkim "[<\"](boost/|ares|lmdb|toml|thread>|mutex>|sys/socket|netinet|queue/)" "mta/dkim is crypto-only")
check_folder(mta/events "[<\"](boost/|ares|lmdb|toml|thread>|mutex>|sys/socket|netinet|queue/|mta/(smtp|dsn|dkim|config|net|ops|policy|inbound|outbound|probe|daemon|cli)/)"
             "mta/events renders and signs events: pure, libcrypto and delivery's categories only")
# mta/submit is sans-IO too; of the queue it sees only the plain record types (QueueTypes.hpp).
check_folder(mta/submit "${io}|[<\"]queue/([^Q]|Q[^u]|Queue[^T])|[<\"]mta/(net|inbound|outbound|ops|probe|daemon|cli|policy|config|dkim)/"
             "mta/submit is sans-IO: JSON, the request and its MIME rendering")
check_folder(mta/config "[<\"](boost/|openssl/|ares|lmdb|queue/)" "mta/config only parses configuration")

# The rooms of the running MTA. Only the drivers that talk to peers (net, inbound, outbound, probe)
# see TLS or DNS libraries; ops may use Asio for its two small local servers (metrics, control).
set(tls_dns "[<\"](openssl/|ares)")
set(store "[<\"](lmdb|toml)")
check_folder(mta/policy "${io}|[<\"](queue/|mta/(net|inbound|outbound|ops|probe|daemon|cli)/)"
             "mta/policy turns configuration into rules: no I/O libraries, no drivers")
check_folder(mta/ops "${tls_dns}|${store}|[<\"]mta/(net|inbound|outbound|probe|daemon|cli|policy)/"
             "mta/ops is logs, metrics and process control: no TLS, DNS or drivers")
check_folder(mta/net "${store}|[<\"](queue/|mta/(inbound|outbound|ops|probe|daemon|cli|policy|smtp)/)"
             "mta/net is transport only: no SMTP rules, no queue, no drivers")
check_folder(mta/cluster "${tls_dns}|${store}|[<\"](boost/|queue/|mta/(smtp|dsn|delivery|inbound|outbound|probe|daemon|cli|policy)/)"
             "mta/cluster is the Redis link: hiredis on its own thread, no Asio, SMTP, queue or drivers")
check_folder(mta/inbound "${store}|[<\"]mta/(outbound|probe|daemon|cli)/"
             "mta/inbound does not reach into delivery, probe or the wiring")
check_folder(mta/outbound "${store}|[<\"]mta/(inbound|probe|daemon|cli)/"
             "mta/outbound does not reach into acceptance, probe or the wiring")
check_folder(mta/probe "${store}|[<\"](queue/|mta/(inbound|daemon|cli)/)"
             "mta/probe never touches the queue or the server")
check_folder(mta/daemon "${tls_dns}|${store}|[<\"]mta/cli/"
             "mta/daemon is wiring: TLS, DNS and storage stay in their rooms")
check_folder(mta/cli "${tls_dns}|${store}|[<\"]boost/"
             "mta/cli parses arguments and calls the rooms")

if(failures)
  message(FATAL_ERROR "forbidden #include lines:${failures}")
endif()
message(STATUS "include rules: ok")
