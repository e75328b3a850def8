import assert from 'node:assert/strict'
import {test} from 'node:test'
import {clusterRecommendation, recommend} from '../../src/bench/recommend.ts'
import {renderCsv} from '../../src/report/csv.ts'
import {renderHtml} from '../../src/report/html.ts'
import {renderMarkdown} from '../../src/report/markdown.ts'
import {renderRecommendation, renderTable} from '../../src/report/table.ts'
import {clusterSampleRun} from './cluster-sample-run.ts'
import {sampleRun} from './sample-run.ts'

test('clusterRecommendation: replicas and policy as nginx upstream and HAProxy backend over placeholder ports', () => {
  const c = clusterRecommendation({replicas: 3, lb: 'least-conn'})!
  assert.deepEqual(c.backends, ['127.0.0.1:8501', '127.0.0.1:8502', '127.0.0.1:8503'])
  assert.equal(
    c.nginxUpstream,
    'upstream tfsopt {\n    least_conn;\n    zone tfsopt 64k;\n    server 127.0.0.1:8501 max_fails=0;\n    server 127.0.0.1:8502 max_fails=0;\n    server 127.0.0.1:8503 max_fails=0;\n    keepalive 48;\n}',
  )
  assert.match(c.haproxyBackend, /^backend tfsopt\n {4}mode http\n {4}balance leastconn\n/)
  assert.match(c.haproxyBackend, /server r2 127\.0\.0\.1:8503$/)
  assert.equal(clusterRecommendation({replicas: 2, lb: 'random-two'})!.nginxUpstream.split('\n')[1], '    random two least_conn;')
  assert.equal(clusterRecommendation({maxBatchSize: 8}), undefined, 'one server, no balancer: no cluster part')
})

test('recommend: the best cluster point names replicas + policy and carries both balancer blocks', () => {
  const run = clusterSampleRun()
  const rec = recommend(run.points, {modelArg: 'model.onnx', cores: 2})!
  assert.match(rec.pointId, /replicas=2/)
  assert.equal(rec.cluster?.replicas, 2)
  assert.equal(rec.cluster?.lb, 'round-robin', 'the higher-throughput policy (98 vs 96 req/s)')
  assert.match(rec.reason, /2 replicas behind nginx \(round-robin\)/)
  assert.match(rec.serveCommand, /^tfsopt serve model\.onnx .*--port 8501$/)
  assert.match(rec.cluster!.nginxUpstream, /^upstream tfsopt \{\n {4}zone tfsopt 64k;/, 'round robin: no method directive')
  assert.match(rec.cluster!.haproxyBackend, /balance roundrobin/)
  assert.equal(sampleRun().recommendation?.cluster, undefined, 'a single-server run has no cluster part')
})

test('reports render the balancer blocks beside the serve flags and batching_parameters.txt', () => {
  const run = clusterSampleRun()
  const text = renderRecommendation(run.recommendation)
  assert.match(text, /replicas: 2, policy round-robin \(measured behind nginx\)/)
  assert.match(text, /nginx upstream:\n {4}upstream tfsopt \{/)
  assert.match(text, /HAProxy backend:\n {4}backend tfsopt\n {8}mode http\n {8}balance roundrobin/)
  assert.match(text, /TF Serving batching_parameters\.txt/)
  const md = renderMarkdown(run)
  assert.match(md, /```nginx\nupstream tfsopt \{[\s\S]*?\n\}\n```/)
  assert.match(md, /HAProxy `backend`:\n\n```\nbackend tfsopt\n/)
  const html = renderHtml(run)
  assert.match(html, /<pre>upstream tfsopt \{/)
  assert.match(html, /<pre>backend tfsopt/)
  assert.doesNotMatch(renderRecommendation(sampleRun().recommendation), /upstream/)
  assert.ok(renderTable(run).length > 0)
})

test('cluster columns: per-replica counts, imbalance, balancer +ms and the cluster model, only for runs with cluster points', () => {
  const run = clusterSampleRun()
  const table = renderTable(run)
  for (const h of ['per-replica requests', 'imbal.', 'lb +ms idle/load', 'cluster model vs measured']) assert.ok(table.includes(h), h)
  assert.match(table, /150\/144/)
  assert.match(table, /0\.12\/0\.31/, 'balancer hop idle / at load')
  assert.match(table, /1\.02/, 'imbalance 150 / 147')
  assert.match(table, /100 req\/s vs 98 \(−2%\), asymptotic bound/)
  assert.match(table, /\[sleep-bound\]/)
  const md = renderMarkdown(run)
  assert.match(md, /## Replicas behind the balancer/)
  assert.match(md, /\| 2× least-conn \(nginx\) \| sleep-bound \| 140\/148 \| 1\.03 \| 0\.12 \| 0\.31 \| 100 req\/s vs 96 \(−4%\)/)
  const csv = renderCsv(run).split('\n')
  assert.match(csv[0]!, /,cluster,regime,perReplicaRequests,imbalance,balancerAddedMs,balancerAddedAtLoadMs,clusterModel$/)
  assert.match(csv[2]!, /,2× round-robin \(nginx\),sleep-bound,150\/144,1\.0204,0\.12,0\.31,"100 req\/s vs 98/)
  const html = renderHtml(run)
  assert.match(html, /<h2>Replicas behind the balancer<\/h2>/)
  assert.match(
    html,
    /<td>2× least-conn \(nginx\)<\/td><td>sleep-bound<\/td><td>140\/148<\/td><td>1\.03<\/td><td>0\.12<\/td><td>0\.31<\/td><td>100 req\/s vs 96 \(−4%\)/,
  )
  const single = sampleRun()
  assert.doesNotMatch(renderHtml(single), /Replicas behind the balancer/)
  assert.doesNotMatch(renderCsv(single), /perReplicaRequests/)
  assert.doesNotMatch(renderTable(single), /per-replica requests/)
  assert.doesNotMatch(renderMarkdown(single), /Replicas behind the balancer/)
})
