"""`session.get_metrics()`."""


def check_metrics(r):
    assert r.success, r.error_message
    assert r.request_id
    m = r.metrics
    assert m.cpu_count >= 1
    assert 0.0 <= m.cpu_used_pct <= 100.0
    assert m.mem_total > 0
    assert 0 < m.mem_used <= m.mem_total
    assert m.disk_total > 0
    assert 0 <= m.disk_used <= m.disk_total
    assert m.rx_rate_kbyte_per_s >= 0 and m.tx_rate_kbyte_per_s >= 0
    assert m.rx_used_kbyte >= 0 and m.tx_used_kbyte >= 0
    assert m.timestamp
    assert isinstance(r.raw, dict) and "cpu_count" in r.raw


def test_get_metrics(session):
    check_metrics(session.get_metrics())


def test_get_metrics_with_explicit_timeouts(session):
    check_metrics(session.get_metrics(read_timeout=20000, connect_timeout=5000))

