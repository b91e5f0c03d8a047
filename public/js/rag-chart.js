// Draws the charts of a page with chart.js (self-hosted). Markup, from the `chart` partial:
//
//   <canvas data-chart="history-data" role="img" aria-label="...">...</canvas>
//   <script type="application/json" id="history-data">{ "type": "rag-history", ... }</script>
//
// Data shapes:
//   { "type": "rag-history", "points": [{ "at": "2026-03-14", "rag": "red", "label": "14 March 2026" }] }
//     a stepped line of the RAG over time, y axis Green / Amber / Red; a point's optional "events" (strings)
//     are listed in its tooltip, and "timeScale": true spaces the points by date (the service page timeline)
//   { "type": "bar", "labels": ["Home care", ...], "stacked": true, "horizontal": false,
//     "datasets": [{ "label": "Red", "data": [3, 1], "colour": "red" }] }
//     bars of counts; a dataset's colour is a name from COLOURS (or its `rag`); "percentAxis": true for shares
//     of a whole (the value axis runs 0 to 100%)
//
// Every chart has the same data in a table beside it (the page's job), so the colours are never the
// only way to read it. No inline code: this file is loaded with the page's CSP nonce.
;(function () {
  'use strict'

  var COLOURS = {
    red: '#ca3535',
    amber: '#f47738',
    orange: '#f47738',
    green: '#0f7a52',
    grey: '#858686',
    blue: '#1d70b8',
    'dark-blue': '#0f385c',
    purple: '#54319f',
    turquoise: '#158187',
    black: '#0b0c0c',
  }
  var RAG_VALUES = { green: 0, amber: 1, red: 2 }
  var RAG_NAMES = ['Green', 'Amber', 'Red']
  var RAG_COLOURS = [COLOURS.green, COLOURS.amber, COLOURS.red]

  function readData(canvas) {
    var element = document.getElementById(canvas.getAttribute('data-chart'))
    if (!element) return null
    try {
      return JSON.parse(element.textContent || 'null')
    } catch (error) {
      return null
    }
  }

  function reducedMotion() {
    return window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches
  }

  function ragHistoryConfig(data) {
    var points = (data.points || []).filter(function (point) {
      return point && Object.prototype.hasOwnProperty.call(RAG_VALUES, point.rag)
    })
    var values = points.map(function (point) {
      return RAG_VALUES[point.rag]
    })
    // "timeScale": the x axis is time itself (days), so events far apart are drawn far apart.
    var timed = Boolean(data.timeScale)
    var config = {
      type: 'line',
      data: {
        labels: points.map(function (point) {
          return point.label || point.at
        }),
        datasets: [
          {
            label: data.label || 'RAG rating',
            data: timed
              ? points.map(function (point, index) {
                  return { x: dayNumber(point.at), y: values[index] }
                })
              : values,
            stepped: true,
            borderColor: COLOURS.black,
            borderWidth: 2,
            pointRadius: 5,
            pointHoverRadius: 7,
            pointBackgroundColor: values.map(function (value) {
              return RAG_COLOURS[value]
            }),
            pointBorderColor: COLOURS.black,
            // Points on Green and Red sit on the chart's edges: draw them whole.
            clip: false,
          },
        ],
      },
      options: {
        layout: { padding: 8 },
        scales: {
          y: {
            min: 0,
            max: 2,
            ticks: {
              stepSize: 1,
              callback: function (value) {
                return RAG_NAMES[value] || ''
              },
            },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (context) {
                return RAG_NAMES[context.parsed.y] || ''
              },
              // A timeline point lists the observations and RAG changes of its date.
              afterLabel: function (context) {
                var point = points[context.dataIndex]
                return point && Array.isArray(point.events) ? point.events : ''
              },
            },
          },
        },
      },
    }
    if (timed) {
      var days = points.map(function (point) {
        return dayNumber(point.at)
      })
      // The axis runs from the first event to the last (today), not to the next round number.
      config.options.scales.x = {
        type: 'linear',
        min: days.length ? Math.min.apply(null, days) : undefined,
        max: days.length ? Math.max.apply(null, days) : undefined,
        ticks: {
          maxTicksLimit: 8,
          callback: function (value) {
            return monthLabel(value)
          },
        },
      }
      config.options.plugins.tooltip.callbacks.title = function (items) {
        var point = items.length ? points[items[0].dataIndex] : null
        return point ? point.label || point.at : ''
      }
    }
    return config
  }

  // Days since 1970-01-01 of an ISO date, and back to a month label for the axis.
  function dayNumber(iso) {
    var parts = String(iso).slice(0, 10).split('-')
    return Date.UTC(Number(parts[0]), Number(parts[1]) - 1, Number(parts[2])) / 86400000
  }

  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

  function monthLabel(day) {
    var date = new Date(Number(day) * 86400000)
    return MONTHS[date.getUTCMonth()] + ' ' + date.getUTCFullYear()
  }

  function barConfig(data) {
    var stacked = Boolean(data.stacked)
    var valueAxis = { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } }
    // Shares of a whole: the axis ends at 100% even when rounded shares add up to 100.1.
    if (data.percentAxis) {
      valueAxis.max = 100
      valueAxis.ticks.callback = function (value) {
        return value + '%'
      }
    }
    var categoryAxis = { stacked: stacked }
    return {
      type: 'bar',
      data: {
        labels: data.labels || [],
        datasets: (data.datasets || []).map(function (dataset) {
          var colour = COLOURS[dataset.colour || dataset.rag] || COLOURS.blue
          return { label: dataset.label, data: dataset.data || [], backgroundColor: colour, borderColor: colour }
        }),
      },
      options: {
        indexAxis: data.horizontal ? 'y' : 'x',
        scales: data.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
        plugins: { legend: { display: (data.datasets || []).length > 1, position: 'bottom' } },
      },
    }
  }

  function drawAll(Chart) {
    Chart.defaults.font.family = 'arial, sans-serif'
    Chart.defaults.font.size = 14
    Chart.defaults.color = COLOURS.black
    Chart.defaults.maintainAspectRatio = false
    if (reducedMotion()) Chart.defaults.animation = false

    var canvases = document.querySelectorAll('canvas[data-chart]')
    Array.prototype.forEach.call(canvases, function (canvas) {
      var data = readData(canvas)
      if (!data) return
      var config = data.type === 'rag-history' ? ragHistoryConfig(data) : barConfig(data)
      // eslint-disable-next-line no-new
      new Chart(canvas, config)
      canvas.setAttribute('data-chart-drawn', 'true')
    })
  }

  // chart.js is only fetched on pages that have a chart.
  function loadChartLibrary(callback) {
    if (window.Chart) return callback(window.Chart)
    var self = document.querySelector('script[data-chart-library]')
    if (!self) return
    var script = document.createElement('script')
    script.src = self.getAttribute('data-chart-library')
    if (self.nonce) script.nonce = self.nonce
    script.onload = function () {
      if (window.Chart) callback(window.Chart)
    }
    document.head.appendChild(script)
  }

  function start() {
    if (!document.querySelector('canvas[data-chart]')) return
    loadChartLibrary(drawAll)
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start)
  } else {
    start()
  }
})()
