/**
 * tally's built-in types.db: the data sources of the collectd types seen most often (the cpu, load,
 * memory, interface, disk, df, processes, swap, vmem, irq, entropy, uptime, users, sensor and server
 * plugins' types, plus the generic `gauge`, `counter`, `derive` and `absolute`).
 *
 * Used when no `types_db` file is configured and the system has no `/usr/share/collectd/types.db`
 * (see `defaultTypesDb` in `_load_types_db.ts`). Written for tally from the meaning of each type; the
 * data-source names, order and types agree with collectd 5.12's own file, which a test checks whenever
 * that file is installed. A value list of a type missing here is counted `unknown_type`: point
 * `types_db` at a fuller file for exotic plugins.
 *
 * @module
 */

/** The built-in table, in types.db syntax (`parseTypesDb` reads it like any file). */
export const BUILTIN_TYPES_DB: string =
  `# tally built-in types: name, then name:TYPE:min:max per data source (U = unknown)
absolute              value:ABSOLUTE:0:U
apache_bytes          value:DERIVE:0:U
apache_connections    value:GAUGE:0:65535
apache_idle_workers   value:GAUGE:0:65535
apache_requests       value:DERIVE:0:U
apache_scoreboard     value:GAUGE:0:65535
bitrate               value:GAUGE:0:4294967295
bytes                 value:GAUGE:0:U
cache_ratio           value:GAUGE:0:100
cache_result          value:DERIVE:0:U
cache_size            value:GAUGE:0:1125899906842623
charge                value:GAUGE:0:U
compression_ratio     value:GAUGE:0:2
connections           value:DERIVE:0:U
conntrack             value:GAUGE:0:4294967295
contextswitch         value:DERIVE:0:U
count                 value:GAUGE:0:U
counter               value:COUNTER:U:U
cpu                   value:DERIVE:0:U
cpufreq               value:GAUGE:0:U
current               value:GAUGE:U:U
delay                 value:GAUGE:-1000000:1000000
derive                value:DERIVE:0:U
df                    used:GAUGE:0:1125899906842623, free:GAUGE:0:1125899906842623
df_complex            value:GAUGE:0:U
df_inodes             value:GAUGE:0:U
disk_io_time          io_time:DERIVE:0:U, weighted_io_time:DERIVE:0:U
disk_latency          read:GAUGE:0:U, write:GAUGE:0:U
disk_merged           read:DERIVE:0:U, write:DERIVE:0:U
disk_octets           read:DERIVE:0:U, write:DERIVE:0:U
disk_ops              read:DERIVE:0:U, write:DERIVE:0:U
disk_ops_complex      value:DERIVE:0:U
disk_time             read:DERIVE:0:U, write:DERIVE:0:U
dns_answer            value:DERIVE:0:U
dns_query             value:DERIVE:0:U
dns_qtype             value:DERIVE:0:U
duration              seconds:GAUGE:0:U
email_check           value:GAUGE:0:U
email_count           value:GAUGE:0:U
email_size            value:GAUGE:0:U
entropy               value:GAUGE:0:4294967295
errors                value:DERIVE:0:U
file_handles          value:GAUGE:0:U
file_size             value:GAUGE:0:U
files                 value:GAUGE:0:U
fork_rate             value:DERIVE:0:U
frequency             value:GAUGE:0:U
frequency_offset      value:GAUGE:-1000000:1000000
fscache_stat          value:DERIVE:0:U
gauge                 value:GAUGE:U:U
hash_collisions       value:DERIVE:0:U
http_request_methods  value:DERIVE:0:U
http_requests         value:DERIVE:0:U
http_response_codes   value:DERIVE:0:U
humidity              value:GAUGE:0:100
if_collisions         value:DERIVE:0:U
if_dropped            rx:DERIVE:0:U, tx:DERIVE:0:U
if_errors             rx:DERIVE:0:U, tx:DERIVE:0:U
if_multicast          value:DERIVE:0:U
if_octets             rx:DERIVE:0:U, tx:DERIVE:0:U
if_packets            rx:DERIVE:0:U, tx:DERIVE:0:U
if_rx_errors          value:DERIVE:0:U
if_rx_octets          value:DERIVE:0:U
if_tx_errors          value:DERIVE:0:U
if_tx_octets          value:DERIVE:0:U
invocations           value:DERIVE:0:U
io_octets             rx:DERIVE:0:U, tx:DERIVE:0:U
io_packets            rx:DERIVE:0:U, tx:DERIVE:0:U
ipt_bytes             value:DERIVE:0:U
ipt_packets           value:DERIVE:0:U
irq                   value:DERIVE:0:U
latency               value:GAUGE:0:U
load                  shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, longterm:GAUGE:0:5000
memory                value:GAUGE:0:281474976710656
memcached_command     value:DERIVE:0:U
memcached_connections value:GAUGE:0:U
memcached_items       value:GAUGE:0:U
memcached_octets      rx:DERIVE:0:U, tx:DERIVE:0:U
memcached_ops         value:DERIVE:0:U
mysql_commands        value:DERIVE:0:U
mysql_handler         value:DERIVE:0:U
mysql_locks           value:DERIVE:0:U
mysql_log_position    value:DERIVE:0:U
mysql_octets          rx:DERIVE:0:U, tx:DERIVE:0:U
nginx_connections     value:GAUGE:0:U
nginx_requests        value:DERIVE:0:U
node_octets           rx:DERIVE:0:U, tx:DERIVE:0:U
objects               value:GAUGE:0:U
operations            value:DERIVE:0:U
packets               value:DERIVE:0:U
pending_operations    value:GAUGE:0:U
percent               value:GAUGE:0:100.1
percent_bytes         value:GAUGE:0:100.1
percent_inodes        value:GAUGE:0:100.1
pg_blks               value:DERIVE:0:U
pg_db_size            value:GAUGE:0:U
pg_n_tup_c            value:DERIVE:0:U
pg_n_tup_g            value:GAUGE:0:U
pg_numbackends        value:GAUGE:0:U
pg_scan               value:DERIVE:0:U
pg_xact               value:DERIVE:0:U
ping                  value:GAUGE:0:65535
ping_droprate         value:GAUGE:0:1
ping_stddev           value:GAUGE:0:65535
players               value:GAUGE:0:1000000
power                 value:GAUGE:U:U
pressure              value:GAUGE:0:U
protocol_counter      value:DERIVE:0:U
ps_code               value:GAUGE:0:9223372036854775807
ps_count              processes:GAUGE:0:1000000, threads:GAUGE:0:1000000
ps_cputime            user:DERIVE:0:U, syst:DERIVE:0:U
ps_data               value:GAUGE:0:9223372036854775807
ps_disk_octets        read:DERIVE:0:U, write:DERIVE:0:U
ps_disk_ops           read:DERIVE:0:U, write:DERIVE:0:U
ps_pagefaults         minflt:DERIVE:0:U, majflt:DERIVE:0:U
ps_rss                value:GAUGE:0:9223372036854775807
ps_stacksize          value:GAUGE:0:9223372036854775807
ps_state              value:GAUGE:0:65535
ps_vm                 value:GAUGE:0:9223372036854775807
queue_length          value:GAUGE:0:U
records               value:GAUGE:0:U
requests              value:GAUGE:0:U
response_code         value:GAUGE:0:U
response_time         value:GAUGE:0:U
serial_octets         rx:DERIVE:0:U, tx:DERIVE:0:U
signal_noise          value:GAUGE:U:0
signal_power          value:GAUGE:U:0
signal_quality        value:GAUGE:0:U
snr                   value:GAUGE:0:U
spam_check            value:GAUGE:0:U
spam_score            value:GAUGE:U:U
swap                  value:GAUGE:0:1099511627776
swap_io               value:DERIVE:0:U
tcp_connections       value:GAUGE:0:4294967295
temperature           value:GAUGE:U:U
threads               value:GAUGE:0:U
time_dispersion       value:GAUGE:-1000000:1000000
time_offset           value:GAUGE:-1000000:1000000
timeleft              value:GAUGE:0:U
total_bytes           value:DERIVE:0:U
total_connections     value:DERIVE:0:U
total_objects         value:DERIVE:0:U
total_operations      value:DERIVE:0:U
total_requests        value:DERIVE:0:U
total_sessions        value:DERIVE:0:U
total_threads         value:DERIVE:0:U
total_time_in_ms      value:DERIVE:0:U
total_values          value:DERIVE:0:U
uptime                value:GAUGE:0:4294967295
users                 value:GAUGE:0:65535
virt_cpu_total        value:DERIVE:0:U
virt_vcpu             value:DERIVE:0:U
vmpage_action         value:DERIVE:0:U
vmpage_faults         minflt:DERIVE:0:U, majflt:DERIVE:0:U
vmpage_io             in:DERIVE:0:U, out:DERIVE:0:U
vmpage_number         value:GAUGE:0:4294967295
voltage               value:GAUGE:U:U
`;
