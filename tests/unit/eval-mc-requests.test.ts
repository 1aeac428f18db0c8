// Multiple-choice requests as lm-evaluation-harness 0.4 builds them. Every expected string below
// is worked out by hand from lm-eval's task code (lm_eval/tasks/*/ yaml + utils.py,
// api/task.py construct_requests: (doc_to_text, " " + choice), multiple_inputs: (choice, " " +
// target); models/huggingface.py _encode_pair / loglikelihood), not from our implementation.
import { describe, expect, it } from 'vitest';
import { buildMcDoc, hellaswagPreprocess, mathqaChoices } from '../../src-main/engine/eval/mc/documents';
import {
  encodeRequest,
  maxLengthOf,
  requestWindow,
  splitTrailingSpace,
  type TokenEncoder,
} from '../../src-main/engine/eval/mc/encode';
import { meanStderr, scoreDoc } from '../../src-main/engine/eval/mc/metrics';
import { pyCapitalize, pyLen, pyRstrip } from '../../src-main/engine/eval/mc/python-str';

describe('lm-eval 0.4 task construction', () => {
  it('ARC: "Question: {{question}}\\nAnswer:", choices.text, gold = choices.label.index(answerKey)', () => {
    const d = buildMcDoc(
      'arc_easy',
      {
        question: 'Which gas do plants absorb?',
        choices: { text: ['Oxygen', 'Carbon dioxide', 'Helium'], label: ['1', '2', '3'] },
        answerKey: '2',
      },
      0,
    );
    expect(d.requests).toEqual([
      { context: 'Question: Which gas do plants absorb?\nAnswer:', continuation: ' Oxygen' },
      { context: 'Question: Which gas do plants absorb?\nAnswer:', continuation: ' Carbon dioxide' },
      { context: 'Question: Which gas do plants absorb?\nAnswer:', continuation: ' Helium' },
    ]);
    expect(d.choices).toEqual(['Oxygen', 'Carbon dioxide', 'Helium']);
    expect(d.gold).toBe(1);
    // Jinja's list.index raises on a key that is not a label: so does the builder
    expect(() =>
      buildMcDoc(
        'arc_challenge',
        { question: 'q', choices: { text: ['x'], label: ['A'] }, answerKey: 'E' },
        3,
      ),
    ).toThrow(/arc document 3: answerKey "E" is not among labels/);
  });

  it('OpenBookQA: the bare question_stem as context, gold = label.index(answerKey.lstrip())', () => {
    const d = buildMcDoc(
      'openbookqa',
      {
        question_stem: 'The sun is responsible for',
        choices: { text: ['puppies learning new tricks', 'plants sprouting'], label: ['A', 'B'] },
        answerKey: ' B',
      },
      0,
    );
    expect(d.requests).toEqual([
      { context: 'The sun is responsible for', continuation: ' puppies learning new tricks' },
      { context: 'The sun is responsible for', continuation: ' plants sprouting' },
    ]);
    expect(d.gold).toBe(1);
  });

  it('PIQA: "Question: {{goal}}\\nAnswer:" with [sol1, sol2], gold = label', () => {
    const d = buildMcDoc(
      'piqa',
      {
        goal: 'dresser',
        sol1: 'replace drawer with bobby pin ',
        sol2: 'finish, woodgrain with  bobby pin ',
        label: 1,
      },
      0,
    );
    expect(d.requests).toEqual([
      { context: 'Question: dresser\nAnswer:', continuation: ' replace drawer with bobby pin ' },
      { context: 'Question: dresser\nAnswer:', continuation: ' finish, woodgrain with  bobby pin ' },
    ]);
    expect(d.gold).toBe(1);
  });

  it('HellaSwag: preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), cleaned endings', () => {
    const d = buildMcDoc(
      'hellaswag',
      {
        activity_label: 'Roof shingle removal',
        ctx_a: 'A man is sitting on a roof.',
        ctx_b: 'he sees Bob',
        endings: ['is using wrap.', ' [title] ends here.', 'x [step] y', 'starts pulling up roofing.'],
        label: '3',
      },
      0,
    );
    // capitalize(): first letter upper, the rest lower ("Bob" -> "bob")
    expect(d.requests[0]!.context).toBe('Roof shingle removal: A man is sitting on a roof. He sees bob');
    // " [title] ends here." -> strip -> "[title] ends here." (no " [title]" left) -> brackets out
    // -> " ends here." (the leading space stays: strip ran first); "x [step] y" -> "x  y" -> "x y"
    expect(d.choices).toEqual(['is using wrap.', ' ends here.', 'x y', 'starts pulling up roofing.']);
    expect(d.requests.map((r) => r.continuation)).toEqual([
      ' is using wrap.',
      '  ends here.',
      ' x y',
      ' starts pulling up roofing.',
    ]);
    expect(d.gold).toBe(3);
  });

  it('HellaSwag preprocess: " [title]" -> ". ", [..] removed, "  " -> " " once (non-overlapping)', () => {
    const wikihow =
      'Home and Garden: [header] How to clean a grill [title] Heat the grill.  [step] Turn it on ';
    // strip; " [title]" -> ". " gives "grill.  Heat"; "[header]"/"[step]" out leave 2 and 3 spaces;
    // replace("  ", " ") maps 2 -> 1 and 3 -> 2
    expect(hellaswagPreprocess(wikihow)).toBe(
      'Home and Garden: How to clean a grill. Heat the grill.  Turn it on',
    );
    // empty ctx_b: the trailing " " of ctx_a + " " + "" is stripped
    const d = buildMcDoc(
      'hellaswag',
      { activity_label: 'Baking', ctx_a: 'She mixes flour.', ctx_b: '', endings: ['a', 'b'], label: 0 },
      0,
    );
    expect(d.requests[0]!.context).toBe('Baking: She mixes flour.');
    // the pre-joined text form (llama.cpp file) is cleaned the same way
    expect(
      buildMcDoc('hellaswag', { query: 'Roof: A man [step] sits.', endings: ['a', 'b'], label: 1 }, 0)
        .requests[0]!.context,
    ).toBe('Roof: A man sits.');
  });

  it('WinoGrande: partial contexts (sentence up to "_" + option), continuation " " + rest.strip(), acc only', () => {
    const d = buildMcDoc(
      'winogrande',
      {
        sentence: 'Sarah was a much better surgeon than Maria so _ always got the easier cases.',
        option1: 'Sarah',
        option2: 'Maria',
        answer: '2',
      },
      0,
    );
    expect(d.requests).toEqual([
      {
        context: 'Sarah was a much better surgeon than Maria so Sarah',
        continuation: ' always got the easier cases.',
      },
      {
        context: 'Sarah was a much better surgeon than Maria so Maria',
        continuation: ' always got the easier cases.',
      },
    ]);
    expect(d.gold).toBe(1);
    const end = buildMcDoc(
      'winogrande',
      { sentence: 'The cup is bigger than the _ .', option1: 'bowl', option2: 'jar', answer: '1' },
      0,
    );
    expect(end.requests.map((r) => [r.context, r.continuation])).toEqual([
      ['The cup is bigger than the bowl', ' .'],
      ['The cup is bigger than the jar', ' .'],
    ]);
    expect(end.gold).toBe(0);
  });

  it('MathQA: "Question: {{Problem}}\\nAnswer:", options split by the utils.py regex', () => {
    const d = buildMcDoc(
      'mathqa',
      {
        Problem: 'a shopkeeper sold an article at 5 % discount .',
        options: 'a ) 38 , b ) 27.675 , c ) 30 , d ) data inadequate , e ) none of these',
        correct: 'd',
      },
      0,
    );
    expect(d.requests[0]).toEqual({
      context: 'Question: a shopkeeper sold an article at 5 % discount .\nAnswer:',
      continuation: ' 38',
    });
    expect(d.choices).toEqual(['38', '27.675', '30', 'data inadequate', 'none of these']);
    expect(d.gold).toBe(3);
    // lazy ".*?, " stops at the first ", " (so "1 , 2" loses "2"); "1,200" has no space after its
    // comma; the e-option runs to the end and keeps inner commas; rstrip(" ,") trims the tail
    expect(mathqaChoices('a ) 1 , 2 , b ) rs . 1,200 , c ) 4 , d ) 5 , e ) 6 , 7 ,')).toEqual([
      '1',
      'rs . 1,200',
      '4',
      '5',
      '6 , 7',
    ]);
    // a missing option: 4 choices, and gold "e" (index 4) is outside them: lm-eval's -100
    const short = buildMcDoc(
      'mathqa',
      { Problem: 'p', options: 'a ) 1 , b ) 2 , c ) 3 , e ) 5', correct: 'e' },
      0,
    );
    expect(short.choices).toEqual(['1', '2', '3', '5']);
    expect(short.gold).toBe(-100);
    expect(scoreDoc([-1, -2, -3, -4], short.choices, short.gold)).toEqual({ acc: 0, accNorm: 0 });
  });
});

/** Greedy longest-match over a fixed vocabulary: merges across the context/continuation boundary. */
function fakeTokenizer(vocab: string[], eos: number | null = 99): TokenEncoder & { calls: boolean[] } {
  const calls: boolean[] = [];
  return {
    eosTokenId: eos,
    calls,
    encode(text, opts) {
      calls.push(opts?.addSpecialTokens ?? true);
      const ids: number[] = [];
      for (let i = 0; i < text.length; ) {
        let best = -1;
        for (const [id, t] of vocab.entries())
          if (text.startsWith(t, i) && (best < 0 || t.length > vocab[best]!.length)) best = id;
        if (best < 0) throw new Error(`no token for ${JSON.stringify(text.slice(i))}`);
        ids.push(best);
        i += vocab[best]!.length;
      }
      return ids;
    },
  };
}

describe('lm-eval 0.4 request encoding (HFLM)', () => {
  it('_encode_pair moves the trailing whitespace of the context to the continuation', () => {
    expect(splitTrailingSpace('Answer: \n ', 'x')).toEqual({ context: 'Answer:', continuation: ' \n x' });
    expect(splitTrailingSpace('Answer:', ' x')).toEqual({ context: 'Answer:', continuation: ' x' });
    // Python isspace, not JS \s: U+FEFF is not whitespace, U+0085 and U+001F are
    expect(pyRstrip('a\ufeff')).toBe('a\ufeff');
    expect(pyRstrip('a\x85\x1f ')).toBe('a');
  });

  it('continuation tokens = tokens(context + continuation) after len(tokens(context)); no special tokens', () => {
    const tok = fakeTokenizer(['a', 'b', 'c', 'd', 'bc', 'cd', ' ']);
    // whole "abcd" -> a|bc|d, context "ab" -> a|b: the continuation is [d], not tokens("cd") = [cd]
    expect(encodeRequest(tok, { context: 'ab', continuation: 'cd' })).toEqual({
      contextTokens: [0, 1],
      continuationTokens: [3],
    });
    expect(tok.calls.every((c) => c === false)).toBe(true);
    // the trailing space moved first: context "a", whole "a b" -> a| |b
    expect(encodeRequest(tok, { context: 'a ', continuation: 'b' })).toEqual({
      contextTokens: [0],
      continuationTokens: [6, 1],
    });
  });

  it('an empty context is replaced by EOS and the continuation encoded alone', () => {
    const tok = fakeTokenizer(['a', 'b', ' '], 7);
    expect(encodeRequest(tok, { context: '', continuation: ' ab' })).toEqual({
      contextTokens: [7],
      continuationTokens: [2, 0, 1],
    });
    expect(() => encodeRequest(fakeTokenizer(['a'], null), { context: '', continuation: 'a' })).toThrow(
      /EOS/,
    );
  });

  it('input = (context + continuation)[-(max_length + 1):][:-1]; the span scores the continuation', () => {
    expect(requestWindow({ contextTokens: [1, 2, 3, 4, 5], continuationTokens: [6, 7] }, 4)).toEqual({
      input: [3, 4, 5, 6],
      targets: [6, 7],
      first: 2,
    });
    expect(requestWindow({ contextTokens: [1, 2], continuationTokens: [3] }, 2048)).toEqual({
      input: [1, 2],
      targets: [3],
      first: 1,
    });
    expect(maxLengthOf({ max_position_embeddings: 4096 })).toBe(4096);
    expect(maxLengthOf({ n_positions: 1024, max_position_embeddings: 4096 })).toBe(1024);
    expect(maxLengthOf({})).toBe(2048);
  });
});

describe('lm-eval 0.4 scoring', () => {
  it('acc = argmax loglik, acc_norm = argmax loglik / len(choice) in code points, first max on ties', () => {
    expect(scoreDoc([-5, -3, -4], ['aaaa', 'b', 'cc'], 1)).toEqual({ acc: 1, accNorm: 0 }); // norm: -1.25, -3, -2
    expect(scoreDoc([-5, -3, -4], ['aaaa', 'b', 'cc'], 0)).toEqual({ acc: 0, accNorm: 1 });
    expect(scoreDoc([-1, -1], ['x', 'y'], 1)).toEqual({ acc: 0, accNorm: 0 });
    // "😀a" is 2 characters for Python (3 UTF-16 units): -4/2 = -2 beats -2.5/1
    expect(pyLen('😀a')).toBe(2);
    expect(scoreDoc([-4, -2.5], ['😀a', 'b'], 0)).toEqual({ acc: 0, accNorm: 1 });
    expect(() => scoreDoc([Number.NaN, 0], ['a', 'b'], 0)).toThrow(/NaN/);
  });

  it('mean_stderr = sample stddev / sqrt(n), null for one document', () => {
    // [1,0,1,1]: mean .75, Σ(x-μ)² = 3·.0625 + .5625 = .75, /3 = .25, sd .5, /√4 = .25
    expect(meanStderr([1, 0, 1, 1])).toBeCloseTo(0.25, 12);
    expect(meanStderr([1])).toBeNull();
    expect(pyCapitalize('hE sees BOB')).toBe('He sees bob');
  });
});
