package tui

import (
	"bytes"
	"fmt"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/devstack-dev/devstack/events"
)

// BenchmarkBatch measures what a full batch off the bus costs the UI:
// maxBatch log lines taken in, then one redraw.
func BenchmarkBatch(b *testing.B) {
	for _, color := range []bool{false, true} {
		b.Run(fmt.Sprintf("color=%v", color), func(b *testing.B) {
			m := newModel(config{out: &bytes.Buffer{}, color: color})
			m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
			batch := make([]events.Event, maxBatch)
			for i := range batch {
				batch[i] = events.Event{Kind: events.KindLog, Source: "web",
					Text: fmt.Sprintf("[2026-03-04 12:01:33 +0000] [4242] [INFO] GET /api/items/%d 200 OK \x1b[32mdone\x1b[0m", i)}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				m.Update(eventBatchMsg{batch})
				_ = m.View()
			}
			b.ReportMetric(float64(b.N*maxBatch)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
