package live

// Changed tells every viewer to re-read its source: data arrived other than by a sweep
// (a sharded collector's read of the other shards' pairs from InfluxDB).
func (f *Feed) Changed() { f.publish(nil, func(u *Update) { u.Changed = true }) }
